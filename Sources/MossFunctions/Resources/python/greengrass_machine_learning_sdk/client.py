# Moss: a clean-room implementation of the Greengrass V1 machine learning SDK's client interface. No AWS code.
"""The inference client: one RequestResponse invocation of
`arn:aws:lambda:<AWS_REGION>:aws:function:GG-ML-INF-<AlgoType>-<ServiceName>` over the V1 IPC, with the content
types in the client context's `custom`, then the blocking result fetch."""

import base64
import json
import os
import re

from greengrass_ipc_python_sdk.ipc_client import IPCClient, IPCException
from greengrass_machine_learning_sdk.exceptions import GreengrassDependencyException, GreengrassInferenceException

# V1's pattern for both; on Moss a ServiceName is an ML resource's name, which may also hold underscores (a colon,
# also legal in resource names, cannot travel in the ARN).
_ALGO_TYPE = re.compile(r'^[a-zA-Z0-9][a-zA-Z0-9-]{1,62}$')
_SERVICE_NAME = re.compile(r'^[a-zA-Z0-9][a-zA-Z0-9_-]{0,127}$')


def client(client_type, *args, **kwargs):
    """`client('inference')`: the only client this SDK has."""
    if client_type != 'inference':
        raise ValueError('unknown client type {!r}: the machine learning SDK has only "inference"'.format(client_type))
    return InferenceClient(*args, **kwargs)


class StreamingBody(object):
    """The reply's `Body`: `read()` returns the bytes (all, or `amt` at a time)."""

    def __init__(self, data):
        self._data = data
        self._position = 0

    def read(self, amt=None):
        end = len(self._data) if amt is None else min(len(self._data), self._position + amt)
        chunk = self._data[self._position:end]
        self._position = end
        return chunk


class InferenceClient(object):
    def __init__(self, endpoint='localhost'):
        self._ipc = IPCClient(endpoint=endpoint)

    def invoke_inference_service(self, AlgoType, ServiceName, Body, ContentType='application/json',
                                 Accept='application/json'):
        for name, value, pattern in (('AlgoType', AlgoType, _ALGO_TYPE), ('ServiceName', ServiceName, _SERVICE_NAME)):
            if not isinstance(value, str) or not pattern.match(value):
                raise ValueError('{} must match {}, got {!r}'.format(name, pattern.pattern, value))
        region = os.environ.get('AWS_REGION', '')
        arn = 'arn:aws:lambda:{}:aws:function:GG-ML-INF-{}-{}'.format(region, AlgoType, ServiceName)
        context = {'custom': {'Content-Type': ContentType, 'Accept': Accept}}
        encoded = base64.b64encode(json.dumps(context).encode('utf-8')).decode('ascii')
        body = Body.encode('utf-8') if isinstance(Body, str) else bytes(Body)
        try:
            invocation_id = self._ipc.post_work(arn, body, encoded, 'RequestResponse')
            result = self._ipc.get_work_result(arn, invocation_id)
        except IPCException as error:
            raise GreengrassDependencyException(str(error))
        if result.func_err:
            message = _error_message(result.payload)
            if result.func_err == 'Handled':
                raise GreengrassInferenceException(message)
            raise GreengrassDependencyException(message)
        try:
            reply = json.loads(result.payload.decode('utf-8'))
            answer = reply['Body']
        except (ValueError, KeyError, TypeError, AttributeError):
            raise GreengrassDependencyException('the inference service answered something else than its reply: {!r}'
                                                .format(result.payload[:200]))
        data = answer.encode('utf-8') if isinstance(answer, str) else bytes(answer)
        return {'Body': StreamingBody(data), 'ContentType': reply.get('Content-Type', Accept)}


def _error_message(payload):
    try:
        document = json.loads(payload.decode('utf-8'))
        return str(document.get('errorMessage', document))
    except (ValueError, AttributeError):
        return payload.decode('utf-8', 'replace') if isinstance(payload, (bytes, bytearray)) else str(payload)
