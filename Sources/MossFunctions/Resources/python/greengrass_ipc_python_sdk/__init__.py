# Moss: a clean-room implementation of the Greengrass V1 core's Python runtime interface, written from the
# protocol description (docs: ../shared/reference/greengrass-v1.md §3). It contains no AWS code.
#
# `greengrass_ipc_python_sdk` is the HTTP client of the V1 IPC that the core shipped beside every Python function
# and PyPI never had; the unmodified `greengrasssdk` (1.6.1) imports `ipc_client.IPCClient` and `IPCException`.
