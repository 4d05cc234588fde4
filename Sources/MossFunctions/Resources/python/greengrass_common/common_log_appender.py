# Moss: a clean-room implementation of the Greengrass V1 core's Python runtime interface, written from the
# protocol description (Greengrass V1 IPC, §3.2–3.3 of the project's reference). It contains no AWS code.
"""The function's log appender: one `logging.Handler` that hands every record to the core.

The core gives the process one inherited pipe per level and names each in `_GG_LOG_FD_<LEVEL>` (LEVEL one of
TRACE, DEBUG, INFO, WARN, ERROR, FATAL). A record is written to the pipe of its level; when that variable is unset
(or the pipe is broken) it is written to the process's original stderr (fd 2, not `sys.stderr`, which the runtime
replaces). Python's levels map as DEBUG→DEBUG, INFO→INFO, WARNING→WARN, ERROR→ERROR, CRITICAL→FATAL, below
DEBUG→TRACE.

Each record is one `os.write` of `[LEVEL]-FILE:LINE,MESSAGE\n` (the shape of V1's function logs; the core adds the
timestamp when it stores the line). A message that spans lines (a traceback) keeps its newlines: every line after
the first belongs to the record above it.
"""

import logging
import os
import threading

LEVELS = ('TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL')

# Python has no TRACE; records at or below this level are TRACE.
TRACE = 5
logging.addLevelName(TRACE, 'TRACE')

_LEVEL_NUMBERS = {
    'TRACE': TRACE,
    'DEBUG': logging.DEBUG,
    'INFO': logging.INFO,
    'WARN': logging.WARNING,
    'WARNING': logging.WARNING,
    'ERROR': logging.ERROR,
    'FATAL': logging.CRITICAL,
    'CRITICAL': logging.CRITICAL,
}


def greengrass_level_name(levelno):
    """The V1 level name of a Python level number."""
    if levelno >= logging.CRITICAL:
        return 'FATAL'
    if levelno >= logging.ERROR:
        return 'ERROR'
    if levelno >= logging.WARNING:
        return 'WARN'
    if levelno >= logging.INFO:
        return 'INFO'
    if levelno >= logging.DEBUG:
        return 'DEBUG'
    return 'TRACE'


def python_level(name, default=logging.INFO):
    """The Python level number of a V1 (or Python) level name; `default` for None or an unknown name."""
    if not name:
        return default
    return _LEVEL_NUMBERS.get(str(name).strip().upper(), default)


def log_fds_from_environment(environ=None):
    """{LEVEL: fd} for every `_GG_LOG_FD_<LEVEL>` that holds a number."""
    environ = os.environ if environ is None else environ
    fds = {}
    for level in LEVELS:
        value = environ.get('_GG_LOG_FD_' + level)
        if value is None:
            continue
        try:
            fds[level] = int(value)
        except ValueError:
            continue
    return fds


class GreengrassLogFormatter(logging.Formatter):
    """`[LEVEL]-file.py:LINE,message` with the exception's traceback, if any, after the message."""

    def format(self, record):
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            message = message + '\n' + record.exc_text if message else record.exc_text
        if record.stack_info:
            message = message + '\n' + self.formatStack(record.stack_info)
        return '[{}]-{}:{},{}'.format(greengrass_level_name(record.levelno), record.filename, record.lineno, message)


class CommonLogAppender(logging.Handler):
    """Writes each record to the `_GG_LOG_FD_<LEVEL>` pipe of its level, else to fd 2."""

    def __init__(self, level=logging.NOTSET, fds=None, fallback_fd=2):
        logging.Handler.__init__(self, level)
        self.fds = log_fds_from_environment() if fds is None else dict(fds)
        self.fallback_fd = fallback_fd
        self.setFormatter(GreengrassLogFormatter())
        self._broken = set()
        self._write_lock = threading.RLock()

    def emit(self, record):
        try:
            line = self.format(record)
            data = (line + '\n').encode('utf-8', 'replace')
            fd = self.fds.get(greengrass_level_name(record.levelno))
            if fd is None or fd in self._broken:
                fd = self.fallback_fd
            with self._write_lock:
                try:
                    _write_all(fd, data)
                except OSError:
                    if fd == self.fallback_fd:
                        raise
                    # The core's pipe is gone: keep the record on stderr rather than lose it.
                    self._broken.add(fd)
                    _write_all(self.fallback_fd, data)
        except Exception:
            self.handleError(record)


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
