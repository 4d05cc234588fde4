# Moss: a clean-room implementation of the Greengrass V1 core's Python runtime interface, written from the
# protocol description (Greengrass V1 IPC, §3 of the project's reference). It contains no AWS code.
"""Interface versions: "MAJOR.MINOR" strings, as `greengrasssdk.INTERFACE_VERSION` and GGC_MAX_INTERFACE_VERSION."""


def parse_version(text):
    """Returns (major, minor) of "MAJOR.MINOR" (a missing minor is 0); raises ValueError on anything else."""
    if not isinstance(text, str):
        raise ValueError('version must be a string, not {}'.format(type(text).__name__))
    parts = text.strip().split('.')
    if not 1 <= len(parts) <= 2 or not all(part.isdigit() for part in parts):
        raise ValueError('invalid interface version {!r}: expected MAJOR.MINOR'.format(text))
    major = int(parts[0])
    minor = int(parts[1]) if len(parts) == 2 else 0
    return major, minor


def is_compatible(sdk_version, core_max_version):
    """An SDK works with a core when their majors are equal and the SDK's minor is at most the core's."""
    sdk_major, sdk_minor = parse_version(sdk_version)
    core_major, core_minor = parse_version(core_max_version)
    return sdk_major == core_major and sdk_minor <= core_minor
