# Moss: a clean-room implementation of the Greengrass V1 machine learning SDK's client interface, written from the
# protocol description (Greengrass V1 IPC, §3.4 of the project's reference). It contains no AWS code.
"""`greengrass_machine_learning_sdk`: functions ask the core's local inference service for predictions.

    import greengrass_machine_learning_sdk as ml
    client = ml.client('inference')
    reply = client.invoke_inference_service(AlgoType='tensorflow', ServiceName='rain_predictor',
                                            ContentType='application/json',
                                            Body=json.dumps({'inputs': {'x': [[1005.0, 21.0, 78.0]]}}))
    outputs = json.loads(reply['Body'].read())

On Moss the service runs the ML resource named `ServiceName` (attached to the calling function) with its native
engine; the body is `{"inputs": {NAME: nested list}, "signature": optional}` and the answer maps each output name to
a nested list. A refused request raises `GreengrassInferenceException`; a core that cannot be reached, or has no
such service, `GreengrassDependencyException`.
"""

from greengrass_machine_learning_sdk.client import client, InferenceClient, StreamingBody  # noqa: F401
from greengrass_machine_learning_sdk.exceptions import (  # noqa: F401
    GreengrassDependencyException,
    GreengrassInferenceException,
)
