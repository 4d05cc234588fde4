# Moss: a clean-room implementation of the Greengrass V1 core's Python runtime interface, written from the
# protocol description (docs: ../shared/reference/greengrass-v1.md §3). It contains no AWS code.
#
# `greengrass_common` is the package the Greengrass V1 core shipped beside every Python function and PyPI never
# had. The unmodified `greengrasssdk` (1.6.1) imports `env_vars` and `function_arn_fields` from it; the Moss
# runtime (`lambda_runtime/lambda_runtime.py`) uses the rest.
