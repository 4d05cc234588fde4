# Moss: a clean-room implementation of the Greengrass V1 core's Python runtime interface, written from the
# protocol description (Greengrass V1 IPC, §3.2 of the project's reference). It contains no AWS code.
"""The environment a Greengrass V1 function process is started with, read once at import.

`greengrasssdk` 1.6.1 imports `MY_FUNCTION_ARN`, `SHADOW_FUNCTION_ARN`, `ROUTER_FUNCTION_ARN` and
`SECRETS_MANAGER_FUNCTION_ARN` from here. `MY_FUNCTION_ARN` must stay `None` when the variable is unset: the SDK's
`utils.testing.mock` then answers every call with canned data, which is how the SDK is imported outside a core.

The three system-function ARNs fall back to the well-known V1 values when the core did not set them (Moss always
sets them); every other name is `None` when unset. The IPC client reads the port again when it is constructed, so
these constants are only a snapshot of the process's start.
"""

import os

AUTH_TOKEN_NAME = 'AWS_CONTAINER_AUTHORIZATION_TOKEN'

AUTH_TOKEN = os.environ.get(AUTH_TOKEN_NAME)
MY_FUNCTION_ARN = os.environ.get('MY_FUNCTION_ARN')

DEFAULT_SHADOW_FUNCTION_ARN = 'arn:aws:lambda:::function:GGShadowService'
DEFAULT_ROUTER_FUNCTION_ARN = 'arn:aws:lambda:::function:GGRouter'
DEFAULT_SECRETS_MANAGER_FUNCTION_ARN = 'arn:aws:lambda:::function:GGSecretManager:1'

SHADOW_FUNCTION_ARN = os.environ.get('SHADOW_FUNCTION_ARN') or DEFAULT_SHADOW_FUNCTION_ARN
ROUTER_FUNCTION_ARN = os.environ.get('ROUTER_FUNCTION_ARN') or DEFAULT_ROUTER_FUNCTION_ARN
SECRETS_MANAGER_FUNCTION_ARN = os.environ.get('SECRETS_MANAGER_FUNCTION_ARN') or DEFAULT_SECRETS_MANAGER_FUNCTION_ARN

DEFAULT_GG_DAEMON_PORT = 8000
GG_DAEMON_PORT = os.environ.get('GG_DAEMON_PORT')

DEFAULT_GGC_MAX_INTERFACE_VERSION = '1.5'
GGC_MAX_INTERFACE_VERSION = os.environ.get('GGC_MAX_INTERFACE_VERSION')

# 'json' or 'binary' (§2.2 EncodingType); the runtime refuses to start without it.
ENCODING_TYPE = os.environ.get('ENCODING_TYPE')

# TRACE, DEBUG, INFO, WARN, ERROR or FATAL; the runtime's default is INFO.
LOG_LEVEL = os.environ.get('LOG_LEVEL')

# The prefix under which resources are visible (NoContainer mode); '/' in a container.
AWS_GG_RESOURCE_PREFIX = os.environ.get('AWS_GG_RESOURCE_PREFIX')

# _GG_LOG_FD_<LEVEL>: an inherited pipe per level that the log appender writes to.
LOG_FD_PREFIX = '_GG_LOG_FD_'
