# Moss: a clean-room implementation of the Greengrass V1 core's Python runtime interface, written from the
# protocol description (Greengrass V1 IPC, §3.3–3.5 of the project's reference). It contains no AWS code.
"""The HTTP client of the Greengrass V1 IPC.

`greengrasssdk` 1.6.1 uses exactly this from here:

* `IPCClient(endpoint='localhost')` (the SDK passes `endpoint` by keyword and nothing else);
* `IPCClient.post_work(function_arn, payload, client_context, invocation_type)` returning the invocation id;
* `IPCClient.get_work_result(function_arn, invocation_id)` returning an object with `.payload` (bytes) and
  `.func_err` (the `X-Amz-Function-Error` header: '' on success, 'Handled' or 'Unhandled'; None when the core sent
  no such header, which makes every shadow call of the SDK raise ShadowError, exactly as with V1's client);
* `IPCException`, which the SDK turns into `InvocationException`.

The runtime (`lambda_runtime.py`) adds `get_work`, `post_work_result`, `post_handler_err` and
`put_initialization_result`.

Wire rules: every call is one HTTP/1.1 request to 127.0.0.1:`GG_DAEMON_PORT` (default 8000) under `/2016-11-01`,
on a connection each thread keeps open for its next calls (V1's client opened one per call; keeping it saves a
connection set-up on every publish, result and poll, which is most of a warm invocation's time). A kept connection
that turns out to be closed is replaced at once, without a backoff delay. Every call is with `Authorization: <token>` (the raw
AWS_CONTAINER_AUTHORIZATION_TOKEN, no scheme). Function ARNs go into the path as they are (they only hold
characters that are legal in a path). There is no read timeout: GETs are long polls. A connection that cannot be
made, or that breaks before a whole response arrived, is retried with exponential backoff (so a POST is delivered
at least once); when the retries run out, and for every response outside 2xx, the call raises `IPCException`.
"""

import http.client
import json
import logging
import os
import socket
import threading
from urllib.parse import quote

from greengrass_common import env_vars
from greengrass_common.function_arn_fields import FunctionArnFields
from greengrass_common.greengrass_message import to_bytes
from greengrass_ipc_python_sdk.utils.exponential_backoff import ExponentialBackoff, RetriesExhausted

API_VERSION = '2016-11-01'

HEADER_AUTHORIZATION = 'Authorization'
HEADER_INVOCATION_ID = 'X-Amz-InvocationId'
HEADER_CLIENT_CONTEXT = 'X-Amz-Client-Context'
HEADER_INVOCATION_TYPE = 'X-Amz-Invocation-Type'
HEADER_FUNCTION_ERROR = 'X-Amz-Function-Error'

INVOCATION_TYPE_REQUEST_RESPONSE = 'RequestResponse'
INVOCATION_TYPE_EVENT = 'Event'

FUNCTION_ERROR_HANDLED = 'Handled'
FUNCTION_ERROR_UNHANDLED = 'Unhandled'

DEFAULT_HOST = '127.0.0.1'
DEFAULT_PORT = env_vars.DEFAULT_GG_DAEMON_PORT
CONNECT_TIMEOUT_SECONDS = 10.0

_ROUTER_ARNS = (env_vars.DEFAULT_ROUTER_FUNCTION_ARN,)

_log = logging.getLogger(__name__)


class IPCException(Exception):
    """A failed IPC call. `status` is the HTTP status (None when the core could not be reached), `body` the
    response body (bytes) and `reason` the status line's text."""

    def __init__(self, message, status=None, body=b'', reason=''):
        Exception.__init__(self, message)
        self.status = status
        self.body = body
        self.reason = reason


class WorkItem(object):
    """One invocation handed to this function by `get_work`."""

    def __init__(self, invocation_id, payload, client_context):
        self.invocation_id = invocation_id
        self.payload = payload
        self.client_context = client_context  # the raw base64 X-Amz-Client-Context value ('' when absent)

    def __repr__(self):
        return 'WorkItem(invocation_id={!r}, payload={!r}, client_context={!r})'.format(
            self.invocation_id, self.payload, self.client_context)


class GetWorkResultOutput(object):
    """The result of an invocation, as `get_work_result` returns it."""

    def __init__(self, invocation_id, payload, func_err):
        self.invocation_id = invocation_id
        self.payload = payload
        self.func_err = func_err

    def __repr__(self):
        return 'GetWorkResultOutput(invocation_id={!r}, payload={!r}, func_err={!r})'.format(
            self.invocation_id, self.payload, self.func_err)


# The name V1-era code used for the same shape.
WorkResultOutput = GetWorkResultOutput


class _Response(object):
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # http.client.HTTPMessage: case-insensitive get()
        self.body = body


class IPCClient(object):
    """A client of the core's IPC server.

    `endpoint`: the host ('localhost', the SDK's default, means 127.0.0.1). `port`: deprecated in V1 and never
    passed by greengrasssdk; when None the port is GG_DAEMON_PORT from the environment, else 8000. `token`: when
    None, AWS_CONTAINER_AUTHORIZATION_TOKEN from the environment. `backoff`: the retry policy for connection
    failures (an `ExponentialBackoff`).
    """

    def __init__(self, endpoint='localhost', port=None, token=None, backoff=None):
        self.endpoint = DEFAULT_HOST if endpoint in (None, '', 'localhost') else endpoint
        if port is None:
            port = os.environ.get('GG_DAEMON_PORT') or env_vars.GG_DAEMON_PORT or DEFAULT_PORT
        try:
            self.port = int(port)
        except (TypeError, ValueError):
            raise ValueError('GG_DAEMON_PORT is not a port number: {!r}'.format(port))
        if token is None:
            token = os.environ.get(env_vars.AUTH_TOKEN_NAME, env_vars.AUTH_TOKEN)
        self.auth_token = token
        self.backoff = backoff if backoff is not None else ExponentialBackoff()
        # One kept-open connection per thread (http.client connections are not thread-safe).
        self._local = threading.local()

    # The SDK's calls.

    def post_work(self, function_arn, payload, client_context, invocation_type=INVOCATION_TYPE_REQUEST_RESPONSE):
        """Invokes `function_arn` (publish: GGRouter, shadow: GGShadowService, or another function) and returns the
        invocation id the core assigned (None when it sent none, as it may for Event invocations).

        `client_context` is the base64 client context as str or bytes ('' or b'' for none)."""
        headers = {
            HEADER_CLIENT_CONTEXT: _header_text(client_context),
            HEADER_INVOCATION_TYPE: invocation_type or INVOCATION_TYPE_REQUEST_RESPONSE,
            'Content-Type': 'application/octet-stream',
        }
        response = self._call('POST', _functions_path(function_arn), headers, to_bytes(payload))
        return response.headers.get(HEADER_INVOCATION_ID)

    def get_work_result(self, function_arn, invocation_id):
        """Blocks until the invocation `invocation_id` of `function_arn` has a result and returns it.

        GGRouter invocations (publishes) have no result: the answer is an empty payload and no error, at once and
        without a request."""
        if _is_router(function_arn):
            return GetWorkResultOutput(invocation_id, b'', '')
        headers = {HEADER_INVOCATION_ID: _header_text(invocation_id)}
        response = self._call('GET', _functions_path(function_arn), headers, None)
        return GetWorkResultOutput(invocation_id, response.body, response.headers.get(HEADER_FUNCTION_ERROR))

    # The runtime's calls.

    def get_work(self, function_arn):
        """Blocks (a long poll, repeated while the core answers 2xx with no `X-Amz-InvocationId`, e.g. 204) until
        the core hands this function an invocation, and returns it as a `WorkItem`."""
        path = _functions_path(function_arn) + '/work'
        while True:
            response = self._call('GET', path, {}, None)
            invocation_id = response.headers.get(HEADER_INVOCATION_ID)
            if invocation_id:
                return WorkItem(invocation_id, response.body, response.headers.get(HEADER_CLIENT_CONTEXT) or '')

    def post_work_result(self, function_arn, invocation_id, payload):
        """Reports the handler's result (bytes or str) for `invocation_id`."""
        headers = {HEADER_INVOCATION_ID: _header_text(invocation_id), 'Content-Type': 'application/octet-stream'}
        self._call('POST', _functions_path(function_arn) + '/work', headers, to_bytes(payload))

    def post_handler_err(self, function_arn, invocation_id, handler_err):
        """Reports that the handler failed: `X-Amz-Function-Error: Handled` and a JSON body, `handler_err` itself
        when it is a dict (`errorMessage`, `errorType`, `stackTrace`), else `{"errorMessage": str(handler_err)}`."""
        if not isinstance(handler_err, dict):
            handler_err = {'errorMessage': str(handler_err)}
        headers = {
            HEADER_INVOCATION_ID: _header_text(invocation_id),
            HEADER_FUNCTION_ERROR: FUNCTION_ERROR_HANDLED,
            'Content-Type': 'application/json',
        }
        self._call('POST', _functions_path(function_arn) + '/work', headers, json.dumps(handler_err).encode('utf-8'))

    def put_initialization_result(self, function_arn, success, response=''):
        """Reports whether the function's module loaded: `{"Success": bool, "Response": str}`."""
        body = json.dumps({'Success': bool(success), 'Response': '' if response is None else str(response)})
        headers = {'Content-Type': 'application/json'}
        self._call('PUT', _functions_path(function_arn) + '/initialized', headers, body.encode('utf-8'))

    # HTTP.

    def _call(self, method, path, headers, body):
        headers = dict(headers)
        if self.auth_token is not None:
            headers[HEADER_AUTHORIZATION] = self.auth_token

        def attempt():
            return self._request_once(method, path, headers, body)

        def on_retry(attempt_number, error, delay):
            _log.debug('IPC %s %s failed (%r); retrying in %.2fs', method, path, error, delay)

        try:
            response = self.backoff.run(attempt, retry_on=(OSError, http.client.HTTPException), on_retry=on_retry)
        except RetriesExhausted as error:
            raise IPCException('IPC {} {} failed: the core at {}:{} could not be reached ({!r})'.format(
                method, path, self.endpoint, self.port, error.last_error))
        if not 200 <= response.status < 300:
            raise IPCException('HTTP Error {}: {}: {}'.format(
                response.status, response.reason, response.body.decode('utf-8', 'replace')),
                status=response.status, body=response.body, reason=response.reason)
        return response

    def _request_once(self, method, path, headers, body):
        connection = getattr(self._local, 'connection', None)
        if connection is not None:
            try:
                return self._exchange(connection, method, path, headers, body)
            except (OSError, http.client.HTTPException):
                # Closed by the core while idle (or broken): one fresh connection now, then the caller's backoff.
                pass
        return self._exchange(self._connect(), method, path, headers, body)

    def _connect(self):
        connection = http.client.HTTPConnection(self.endpoint, self.port, timeout=CONNECT_TIMEOUT_SECONDS)
        try:
            connection.connect()
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection.sock.settimeout(None)  # no read timeout: GETs are long polls
        except BaseException:
            connection.close()
            raise
        self._local.connection = connection
        return connection

    def _exchange(self, connection, method, path, headers, body):
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except BaseException:
            self._forget(connection)
            raise
        if response.will_close:
            self._forget(connection)
        return _Response(response.status, response.reason, response.headers, data)

    def _forget(self, connection):
        connection.close()
        if getattr(self._local, 'connection', None) is connection:
            self._local.connection = None


def _functions_path(function_arn):
    if not function_arn:
        raise ValueError('a function ARN is required')
    return '/{}/functions/{}'.format(API_VERSION, quote(str(function_arn), safe=':$'))


def _header_text(value):
    if value is None:
        return ''
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode('ascii')
    return str(value)


def _is_router(function_arn):
    if function_arn in _ROUTER_ARNS or function_arn == env_vars.ROUTER_FUNCTION_ARN:
        return True
    try:
        fields = FunctionArnFields(function_arn)
    except ValueError:
        return False
    return fields.name == 'GGRouter' and fields.region == '' and fields.account_id == ''
