# Moss: a clean-room implementation of the Greengrass V1 core's Python runtime interface, written from the
# protocol description. It contains no AWS code.
