# Moss: a clean-room implementation of the Greengrass V1 core's Python runtime interface, written from the
# protocol description (Greengrass V1 IPC, §3.5 of the project's reference). It contains no AWS code.
"""Retrying with exponential backoff.

`retry(operation, retry_on=(...))` calls `operation()` until it returns, sleeping `initial_delay`, then twice as
long each time (capped at `max_delay`, with up to `jitter` of random extra), for at most `max_attempts` calls; the
last failure is re-raised as `RetriesExhausted` carrying it. Exceptions outside `retry_on` propagate at once.
"""

import random
import time


class RetriesExhausted(Exception):
    """The operation failed `attempts` times; `last_error` is the final failure."""

    def __init__(self, attempts, last_error):
        Exception.__init__(self, 'gave up after {} attempts: {!r}'.format(attempts, last_error))
        self.attempts = attempts
        self.last_error = last_error


class ExponentialBackoff(object):
    def __init__(self, initial_delay=0.05, max_delay=2.0, max_attempts=10, factor=2.0, jitter=0.1,
                 sleep=time.sleep):
        if max_attempts < 1:
            raise ValueError('max_attempts must be at least 1')
        self.initial_delay = initial_delay
        self.max_delay = max_delay
        self.max_attempts = max_attempts
        self.factor = factor
        self.jitter = jitter
        self.sleep = sleep

    def delays(self):
        """The sleeps between attempts: max_attempts - 1 of them."""
        delay = self.initial_delay
        for _ in range(self.max_attempts - 1):
            yield min(delay, self.max_delay) * (1.0 + random.uniform(0.0, self.jitter))
            delay *= self.factor

    def run(self, operation, retry_on=(Exception,), on_retry=None):
        delays = self.delays()
        attempt = 0
        while True:
            attempt += 1
            try:
                return operation()
            except retry_on as error:
                delay = next(delays, None)
                if delay is None:
                    raise RetriesExhausted(attempt, error)
                if on_retry is not None:
                    on_retry(attempt, error, delay)
                self.sleep(delay)


def retry(operation, retry_on=(Exception,), **backoff_arguments):
    """`ExponentialBackoff(**backoff_arguments).run(operation, retry_on)`."""
    on_retry = backoff_arguments.pop('on_retry', None)
    return ExponentialBackoff(**backoff_arguments).run(operation, retry_on=retry_on, on_retry=on_retry)
