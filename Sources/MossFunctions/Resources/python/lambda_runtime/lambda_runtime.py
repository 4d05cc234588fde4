# Moss: a clean-room implementation of the Greengrass V1 core's Python runtime interface, written from the
# protocol description (Greengrass V1 IPC, §3.5 of the project's reference). It contains no AWS code.
"""The bootstrap of a Python function: `python3 lambda_runtime.py --handler=module.function`.

Started by the core with the function's code directory as the working directory and the V1 environment
(MY_FUNCTION_ARN, AWS_CONTAINER_AUTHORIZATION_TOKEN, ENCODING_TYPE, GG_DAEMON_PORT, GGC_MAX_INTERFACE_VERSION, …).
In order, it:

1. puts the code directory first on sys.path (and this runtime's own modules on it, if PYTHONPATH lacks them);
2. installs the log appender on the root logger (level LOG_LEVEL, default INFO) and replaces sys.stdout
   (records at INFO) and sys.stderr (records at ERROR) with streams that log each line. This happens before the
   handler module is imported, so that what a pinned function prints from its module-level loop is logged too;
3. validates the environment: MY_FUNCTION_ARN a function ARN, the token present, ENCODING_TYPE json or binary;
4. checks the interface version: when `greengrasssdk` is importable, its INTERFACE_VERSION must have the major of
   GGC_MAX_INTERFACE_VERSION (default "1.5") and a minor no greater;
5. imports the handler module, once, in the main thread. Its top-level code runs now, and a pinned function's
   may never return: then the runtime never gets further, exactly as in V1, and everything the module does through
   greengrasssdk still works;
6. reports `PUT /2016-11-01/functions/{MY_FUNCTION_ARN}/initialized` with `{"Success": true, "Response": ""}`, or,
   when steps 3–5 failed, `{"Success": false, "Response": repr(exception)}` after logging the traceback, and exits
   with status 1;
7. loops: long-polls the next invocation, decodes it, calls `handler(event, context)` and posts the result or the
   error; one invocation at a time.

The event is `json.loads(payload)` ({} for an empty payload) when ENCODING_TYPE is json, the payload's bytes when
it is binary. A json payload that is not JSON is not handed to the handler: the invocation fails as Handled with
errorType "JSONDecodeError".

The result is posted as JSON text when ENCODING_TYPE is json (`null` for None); when it is binary, bytes go out as
they are, str as UTF-8, None as an empty payload and anything else as JSON text. A handler exception (or a result
that cannot be serialised) is posted with `X-Amz-Function-Error: Handled` and
`{"errorMessage": str(e), "errorType": type(e).__name__, "stackTrace": ["  File …, line …, in …\\n    code\\n", …]}`
(the traceback's frames from the handler down, in `traceback.format_list` form), and logged at ERROR.

The context object (`LambdaContext`) has `function_name`, `function_version` (the ARN's qualifier, "$LATEST" when
it has none), `invoked_function_arn` (MY_FUNCTION_ARN), `aws_request_id` (the invocation id), `client_context`
(always an object: `.custom` a dict, {} when the invocation carried no client context, and `.client` and `.env`,
None unless present; `custom['subject']` is the MQTT topic of a routed message), `identity` (None), and
`get_remaining_time_in_millis()`: the V1 protocol tells the runtime no deadline, so this counts down from the
invocation's arrival over MOSS_FUNCTION_TIMEOUT_MS when the core sets it, else over V1's default timeout of 3 s;
it never goes below 0. The core, not the runtime, enforces the timeout.

Exit: SIGTERM ends the process with status 0 (the handler or module code in progress is interrupted by SystemExit;
atexit handlers and logging are flushed; other threads do not hold the process). When the core refuses the
work poll with 503 (the worker is being stopped) the runtime exits 0; when the core cannot be reached after the
IPC client's retries, or refuses otherwise, it exits 1.
"""

import os
import sys

_RUNTIME_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _arrange_sys_path():
    """This script's directory leaves sys.path; the code directory (cwd) goes first unless PYTHONPATH places it
    (V1 put the group's PYTHONPATH before the code: "/mllibs" ran as "/mllibs:/lambda"); the runtime root is
    appended when PYTHONPATH did not bring it."""
    script_directory = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0] or os.curdir) == script_directory:
        del sys.path[0]
    code_directory = os.getcwd()
    if not any(os.path.abspath(entry or os.curdir) == code_directory for entry in sys.path):
        sys.path.insert(0, code_directory)
    if not any(os.path.abspath(entry or os.curdir) == _RUNTIME_ROOT for entry in sys.path):
        sys.path.append(_RUNTIME_ROOT)


if __name__ == '__main__':
    _arrange_sys_path()

import argparse  # noqa: E402
import atexit  # noqa: E402
import importlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402

from greengrass_common import env_vars  # noqa: E402
from greengrass_common.common_log_appender import TRACE, CommonLogAppender, python_level  # noqa: E402
from greengrass_common.function_arn_fields import FunctionArnFields  # noqa: E402
from greengrass_common.greengrass_message import decode_client_context  # noqa: E402
from greengrass_common.parse_version import is_compatible, parse_version  # noqa: E402
from greengrass_ipc_python_sdk.ipc_client import IPCClient, IPCException  # noqa: E402

ENCODING_JSON = 'json'
ENCODING_BINARY = 'binary'
DEFAULT_TIMEOUT_MS = 3000

runtime_logger = logging.getLogger('lambda_runtime')


class InitializationError(Exception):
    """The function cannot start: its environment, interface version or handler is wrong."""


# Context


class ClientContext(object):
    """The invocation's client context: `custom` (a dict), `client` and `env` (None unless the caller sent them)."""

    def __init__(self, custom=None, client=None, env=None):
        self.custom = custom if isinstance(custom, dict) else {}
        self.client = client
        self.env = env

    def __repr__(self):
        return 'ClientContext(custom={!r}, client={!r}, env={!r})'.format(self.custom, self.client, self.env)


class LambdaContext(object):
    def __init__(self, function_arn, invocation_id, client_context, timeout_ms=DEFAULT_TIMEOUT_MS, started=None):
        fields = FunctionArnFields(function_arn)
        self.function_name = fields.name
        self.function_version = fields.qualifier or '$LATEST'
        self.invoked_function_arn = function_arn
        self.aws_request_id = invocation_id
        self.client_context = client_context
        self.identity = None
        self._timeout_ms = timeout_ms
        self._started = time.monotonic() if started is None else started

    def get_remaining_time_in_millis(self):
        elapsed_ms = int((time.monotonic() - self._started) * 1000)
        return max(0, self._timeout_ms - elapsed_ms)

    def __repr__(self):
        return 'LambdaContext(function_name={!r}, function_version={!r}, aws_request_id={!r}, ' \
               'client_context={!r})'.format(self.function_name, self.function_version, self.aws_request_id,
                                             self.client_context)


# stdout and stderr into the log


class _LoggingStream(io.TextIOBase):
    """A text stream that logs every complete line it is given as one record of `level`."""

    def __init__(self, logger, level, original_fd, name):
        io.TextIOBase.__init__(self)
        self._logger = logger
        self._level = level
        self._original_fd = original_fd
        self._name = name
        self._pending = ''
        self._lock = threading.RLock()
        self._emitting = threading.local()
        self.buffer = _BytesToText(self)

    @property
    def name(self):
        return self._name

    @property
    def encoding(self):
        return 'utf-8'

    @property
    def errors(self):
        return 'replace'

    def writable(self):
        return True

    def isatty(self):
        return False

    def fileno(self):
        return self._original_fd

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError('write() argument must be str, not {}'.format(type(text).__name__))
        if getattr(self._emitting, 'active', False):
            # The logging machinery itself wrote here (e.g. logging.Handler.handleError): bypass the log.
            os.write(self._original_fd, text.encode('utf-8', 'replace'))
            return len(text)
        with self._lock:
            self._pending += text
            while '\n' in self._pending:
                line, self._pending = self._pending.split('\n', 1)
                self._emit(line)
        return len(text)

    def flush(self):
        with self._lock:
            if self._pending:
                line, self._pending = self._pending, ''
                self._emit(line)

    def _emit(self, line):
        self._emitting.active = True
        try:
            try:
                # 1 = _emit, 2 = write or flush, 3 = whoever printed.
                self._logger.log(self._level, '%s', line, stacklevel=3)
            except TypeError:  # Python < 3.8 has no stacklevel
                self._logger.log(self._level, '%s', line)
        finally:
            self._emitting.active = False


class _BytesToText(object):
    """`sys.stdout.buffer` of a `_LoggingStream`: bytes written here are decoded as UTF-8 and logged."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, data):
        self._stream.write(bytes(data).decode('utf-8', 'replace'))
        return len(data)

    def flush(self):
        self._stream.flush()

    def writable(self):
        return True


def configure_logging(environ=None):
    """The root logger gets the appender at LOG_LEVEL (default INFO); stdout and stderr become logging streams.
    Returns the appender."""
    environ = os.environ if environ is None else environ
    appender = CommonLogAppender()
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(appender)
    root.setLevel(python_level(environ.get('LOG_LEVEL'), logging.INFO))

    # print() and writes to sys.stdout / sys.stderr are always logged, whatever level the root logger has.
    for name, level, fd, attribute in (('stdout', logging.INFO, 1, 'stdout'), ('stderr', logging.ERROR, 2, 'stderr')):
        logger = logging.getLogger('lambda_runtime.' + name)
        logger.propagate = False
        logger.setLevel(TRACE)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.addHandler(appender)
        original = getattr(sys, attribute)
        try:
            if original is not None:
                original.flush()
        except (OSError, ValueError):
            pass
        setattr(sys, attribute, _LoggingStream(logger, level, fd, '<{}>'.format(name)))
    return appender


# Start-up


def validate_environment(environ):
    """(function ARN, encoding) from the environment; raises InitializationError naming what is wrong."""
    function_arn = environ.get('MY_FUNCTION_ARN')
    if not function_arn:
        raise InitializationError('MY_FUNCTION_ARN is not set')
    try:
        FunctionArnFields(function_arn)
    except ValueError as error:
        raise InitializationError('MY_FUNCTION_ARN: {}'.format(error))
    if not environ.get(env_vars.AUTH_TOKEN_NAME):
        raise InitializationError('{} is not set'.format(env_vars.AUTH_TOKEN_NAME))
    encoding = environ.get('ENCODING_TYPE')
    if encoding not in (ENCODING_JSON, ENCODING_BINARY):
        raise InitializationError('ENCODING_TYPE must be "json" or "binary", not {!r}'.format(encoding))
    return function_arn, encoding


def check_interface_version(environ):
    """When greengrasssdk is importable, its INTERFACE_VERSION must be compatible with GGC_MAX_INTERFACE_VERSION.
    Returns the SDK's version, or None when there is no SDK to check."""
    core_version = environ.get('GGC_MAX_INTERFACE_VERSION') or env_vars.DEFAULT_GGC_MAX_INTERFACE_VERSION
    try:
        parse_version(core_version)
    except ValueError as error:
        raise InitializationError('GGC_MAX_INTERFACE_VERSION: {}'.format(error))
    try:
        import greengrasssdk
    except ImportError:
        runtime_logger.debug('greengrasssdk is not importable; no interface version to check')
        return None
    sdk_version = getattr(greengrasssdk, 'INTERFACE_VERSION', None)
    if sdk_version is None:
        runtime_logger.debug('greengrasssdk has no INTERFACE_VERSION; nothing to check')
        return None
    try:
        compatible = is_compatible(sdk_version, core_version)
    except ValueError as error:
        raise InitializationError('greengrasssdk.INTERFACE_VERSION: {}'.format(error))
    if not compatible:
        raise InitializationError(
            'greengrasssdk interface version {} is not supported by this core (maximum {}): the major versions '
            'must be equal and the SDK\'s minor version must not be greater'.format(sdk_version, core_version))
    return sdk_version


def load_handler(handler_name):
    """Imports `module.function`'s module (running its top-level code) and returns the function."""
    if not handler_name or '.' not in handler_name:
        raise InitializationError('the handler must be "module.function", not {!r}'.format(handler_name))
    module_name, function_name = handler_name.rsplit('.', 1)
    if not module_name or not function_name:
        raise InitializationError('the handler must be "module.function", not {!r}'.format(handler_name))
    module = importlib.import_module(module_name)
    handler = getattr(module, function_name, None)
    if handler is None:
        raise InitializationError('module {!r} has no function {!r}'.format(module_name, function_name))
    if not callable(handler):
        raise InitializationError('{!r} in module {!r} is not callable'.format(function_name, module_name))
    return handler


# Invocations


class InvocationError(Exception):
    pass


def decode_event(payload, encoding):
    if encoding == ENCODING_BINARY:
        return payload
    if not payload.strip():
        return {}
    return json.loads(payload)


def encode_result(result, encoding):
    if encoding == ENCODING_BINARY:
        if result is None:
            return b''
        if isinstance(result, (bytes, bytearray, memoryview)):
            return bytes(result)
        if isinstance(result, str):
            return result.encode('utf-8')
    return json.dumps(result).encode('utf-8')


def error_document(error, tb):
    """errorMessage, errorType and stackTrace of an exception (frames from `tb` down)."""
    frames = traceback.extract_tb(tb) if tb is not None else []
    return {
        'errorMessage': str(error),
        'errorType': type(error).__name__,
        'stackTrace': traceback.format_list(frames),
    }


class Runtime(object):
    def __init__(self, ipc, function_arn, encoding, handler, timeout_ms=DEFAULT_TIMEOUT_MS):
        self.ipc = ipc
        self.function_arn = function_arn
        self.encoding = encoding
        self.handler = handler
        self.timeout_ms = timeout_ms

    def run_forever(self):
        while True:
            work = self.ipc.get_work(self.function_arn)
            self.handle(work)

    def handle(self, work):
        """Runs one invocation and posts its outcome; a failed post is logged, never fatal."""
        started = time.monotonic()
        try:
            outcome = self.invoke(work, started)
        except Exception as error:  # the runtime's own failure: still answer the caller
            runtime_logger.exception('Failed to run invocation %s', work.invocation_id)
            outcome = ('error', error_document(error, sys.exc_info()[2]))
        kind, body = outcome
        try:
            if kind == 'result':
                self.ipc.post_work_result(self.function_arn, work.invocation_id, body)
            else:
                self.ipc.post_handler_err(self.function_arn, work.invocation_id, body)
        except IPCException as error:
            runtime_logger.error('Failed to post the %s of invocation %s: %s', kind, work.invocation_id, error)

    def invoke(self, work, started):
        try:
            client_context = decode_client_context(work.client_context)
        except ValueError as error:
            runtime_logger.warning('Invocation %s: %s; using an empty client context', work.invocation_id, error)
            client_context = {}
        context = LambdaContext(
            self.function_arn,
            work.invocation_id,
            ClientContext(client_context.get('custom'), client_context.get('client'), client_context.get('env')),
            timeout_ms=self.timeout_ms,
            started=started,
        )
        try:
            event = decode_event(work.payload, self.encoding)
        except ValueError as error:
            runtime_logger.error('Invocation %s: the payload is not JSON: %s', work.invocation_id, error)
            return 'error', {'errorMessage': 'the payload is not JSON: {}'.format(error),
                             'errorType': type(error).__name__, 'stackTrace': []}
        try:
            result = self.handler(event, context)
            return 'result', encode_result(result, self.encoding)
        except Exception as error:
            _, _, tb = sys.exc_info()
            runtime_logger.exception('Invocation %s: the handler raised %s', work.invocation_id,
                                     type(error).__name__)
            # Skip this frame: the trace starts in the handler.
            return 'error', error_document(error, tb.tb_next if tb is not None else None)


# Main


def _on_sigterm(signum, frame):
    raise SystemExit(0)


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog='lambda_runtime.py', description='Runs one Greengrass V1 Python function.')
    parser.add_argument('--handler', required=True, help='module.function')
    return parser.parse_args(argv)


def timeout_from_environment(environ):
    value = environ.get('MOSS_FUNCTION_TIMEOUT_MS')
    try:
        timeout = int(value) if value else DEFAULT_TIMEOUT_MS
    except ValueError:
        timeout = DEFAULT_TIMEOUT_MS
    return max(0, timeout)


def run(argv, environ=None):
    """The runtime's life; returns the exit status (unless SIGTERM or the function ends it sooner)."""
    environ = os.environ if environ is None else environ
    arguments = parse_arguments(argv)
    configure_logging(environ)
    signal.signal(signal.SIGTERM, _on_sigterm)

    function_arn = environ.get('MY_FUNCTION_ARN')
    ipc = IPCClient()
    try:
        function_arn, encoding = validate_environment(environ)
        check_interface_version(environ)
        handler = load_handler(arguments.handler)
    except Exception as error:
        if isinstance(error, InitializationError):
            runtime_logger.error('Failed to initialize Lambda runtime: %s', error)
        else:
            runtime_logger.exception('Failed to initialize Lambda runtime due to exception: %s', error)
        if function_arn and ipc.auth_token:
            try:
                ipc.put_initialization_result(function_arn, False, repr(error))
            except IPCException as report_error:
                runtime_logger.error('Failed to report the initialization failure: %s', report_error)
        return 1

    try:
        ipc.put_initialization_result(function_arn, True, '')
    except IPCException as error:
        runtime_logger.error('Failed to report initialization: %s', error)
        if error.status is None:
            return 1

    runtime = Runtime(ipc, function_arn, encoding, handler, timeout_ms=timeout_from_environment(environ))
    try:
        runtime.run_forever()
    except IPCException as error:
        if error.status == 503:
            runtime_logger.info('The core is stopping this worker: %s', error)
            return 0
        runtime_logger.error('Failed to get work: %s', error)
        return 1


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        status = run(argv)
    except SystemExit as exit_request:
        code = exit_request.code
        status = code if isinstance(code, int) else (0 if code is None else 1)
    except KeyboardInterrupt:
        status = 130
    except BaseException:
        runtime_logger.exception('The Lambda runtime failed')
        status = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    try:
        atexit._run_exitfuncs()  # logging.shutdown among them
    except BaseException:
        pass
    # Threads the function started must not keep the process alive once the runtime is done.
    os._exit(status if status is not None else 0)


if __name__ == '__main__':
    main()
