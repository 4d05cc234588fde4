# Moss: a clean-room implementation of the Greengrass V1 core's Python runtime interface, written from the
# protocol description (Greengrass V1 IPC, §3.3–3.4 of the project's reference). It contains no AWS code.
"""A message as it crosses the IPC: a payload plus its client context.

On the wire the client context travels in the `X-Amz-Client-Context` header as base64 of a JSON object
`{"custom": {...}, "client": ..., "env": ...}`; the core puts routing facts in `custom` (`subject` = the MQTT topic,
`source` = who published it, `queueFullPolicy`). `GreengrassMessage` encodes and decodes that header.
"""

import base64
import binascii
import json


class GreengrassMessage(object):
    """`payload` (bytes) and `extension_map` (the client context's `custom` object, a dict)."""

    def __init__(self, payload=b'', **extension_map):
        self.payload = to_bytes(payload)
        self.extension_map = dict(extension_map)

    def client_context_header(self):
        """The base64 `X-Amz-Client-Context` value for this message's extension map ('' when it is empty)."""
        if not self.extension_map:
            return ''
        return encode_client_context({'custom': self.extension_map})

    @classmethod
    def from_wire(cls, payload, client_context_header):
        context = decode_client_context(client_context_header)
        custom = context.get('custom') or {}
        if not isinstance(custom, dict):
            custom = {}
        return cls(payload, **custom)

    def __repr__(self):
        return 'GreengrassMessage(payload={!r}, extension_map={!r})'.format(self.payload, self.extension_map)


def to_bytes(payload):
    """bytes for a payload given as bytes, bytearray, memoryview, str (UTF-8), a readable file-like object, or None."""
    if payload is None:
        return b''
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, (bytearray, memoryview)):
        return bytes(payload)
    if isinstance(payload, str):
        return payload.encode('utf-8')
    read = getattr(payload, 'read', None)
    if callable(read):
        return to_bytes(read())
    raise TypeError('a payload must be bytes, str or a readable file-like object, not {}'.format(
        type(payload).__name__))


def encode_client_context(context):
    """base64 (str) of the JSON of a client-context dict."""
    return base64.b64encode(json.dumps(context).encode('utf-8')).decode('ascii')


def decode_client_context(header):
    """The dict in a base64 `X-Amz-Client-Context` value; {} when the header is absent or empty.
    Raises ValueError when it is not base64 of a JSON object."""
    if header is None:
        return {}
    if isinstance(header, (bytes, bytearray)):
        header = bytes(header).decode('ascii', 'replace')
    header = header.strip()
    if not header:
        return {}
    try:
        decoded = base64.b64decode(header, validate=True)
        context = json.loads(decoded.decode('utf-8'))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise ValueError('X-Amz-Client-Context is not base64 of a JSON object: {}'.format(error))
    if not isinstance(context, dict):
        raise ValueError('X-Amz-Client-Context is not a JSON object')
    return context
