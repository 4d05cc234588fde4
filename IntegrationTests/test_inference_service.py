"""The inference service for functions (issue 7 over issue 5's IPC and issue 6's resources): the tutorial's two
models, deployed as ML resources from local packages, run by Moss's engine when a Python function calls V1's machine
learning SDK, with TensorFlow's numbers and no TensorFlow installed; a bad request raises the SDK's exception.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from broker_helpers import Clients
from conftest import REPOSITORY, start_moss
from function_helpers import functions_config, write_function

SEED_MODELS = REPOSITORY.parent / "shared" / "seed-models"
pytest.importorskip("greengrasssdk", reason="pip install greengrasssdk==1.6.1 (scripts/test.sh does)")
pytestmark = pytest.mark.skipif(not SEED_MODELS.exists(), reason="../shared/seed-models is not there")

PREDICTOR = '''\
import json
import greengrass_machine_learning_sdk as ml
import greengrasssdk

iot = greengrasssdk.client("iot-data")
inference = ml.client("inference")

def infer(service, inputs):
    reply = inference.invoke_inference_service(AlgoType="tensorflow", ServiceName=service,
                                               ContentType="application/json", Body=json.dumps({"inputs": inputs}))
    return json.loads(reply["Body"].read())

def handler(event, context):
    standardised = infer("standardiser", {"x": event["raw"]})
    predicted = infer("rain_predictor", {"input": [standardised["x_prime"]]})
    try:
        infer("standardiser", {"nope": [1.0]})
        refused = None
    except ml.GreengrassInferenceException as error:
        refused = str(error)
    try:
        infer("not-attached", {"x": event["raw"]})
        missing = None
    except ml.GreengrassDependencyException as error:
        missing = type(error).__name__
    iot.publish(topic="out/" + context.function_name, payload=json.dumps(
        {"x_prime": standardised["x_prime"], "y": predicted["y"], "refused": refused, "missing": missing}))
'''


def predictor(name: str, isolation: str) -> str:
    return (
        f"  - id: {name}\n    name: {name}\n    runtime: python3.11\n    handler: predictor.handler\n    code: predictor\n"
        f"    timeout: 30\n    isolationMode: {isolation}\n    resourceAccessPolicies:\n"
        "      - resourceId: standardiser\n        permission: ro\n      - resourceId: rain_predictor\n        permission: ro\n"
    )


def test_a_function_runs_the_tutorials_models_through_the_inference_service(moss_binary, workspace):
    write_function(workspace, "predictor", PREDICTOR)
    functions = [("nocontainer", "NoContainer")] + ([("container", "GreengrassContainer")] if os.geteuid() == 0 else [])
    group = (
        "core:\n  thingName: gateway\ndevices:\n  - thingName: sensor\nfunctions:\n"
        + "".join(predictor(name, isolation) for name, isolation in functions)
        + "resources:\n"
        + "".join(
            f"  - id: {model}\n    name: {model}\n    machineLearningModel:\n      source: {SEED_MODELS / (model + '.zip')}\n"
            f"      destinationPath: /ggml/tensorflow/{model}\n"
            "      ownerSetting:\n        groupOwner: \"4242\"\n        groupPermission: ro\n"
            for model in ("standardiser", "rain_predictor")
        )
        + "subscriptions:\n"
        + "".join(
            f"  - id: in-{name}\n    source: device:sensor\n    subject: in/{name}\n    target: function:{name}\n"
            f"  - id: out-{name}\n    source: function:{name}\n    subject: out/{name}\n    target: device:sensor\n"
            for name, _ in functions
        )
    )
    (workspace / "group.yaml").write_text(group)
    (workspace / "moss.yaml").write_text(functions_config())
    cases = json.loads((SEED_MODELS / "reference_outputs.json").read_text())["pipeline_cases"]
    moss = start_moss(moss_binary, workspace / "data", "--config", str(workspace / "moss.yaml"))
    clients = Clients(moss.mqtt_port)
    try:
        result = moss.moss("deploy", str(workspace / "group.yaml"))
        assert result.returncode == 0, result.stderr
        sensor = clients.connected(5, client_id="sensor")
        sensor.subscribe(("out/#", 1))
        for name, _ in functions:
            for case in cases:
                sensor.publish(f"in/{name}", json.dumps({"raw": case["raw"]}).encode(), qos=1)
                try:
                    answer = json.loads(sensor.expect_publish(topic=f"out/{name}", timeout=60).payload)
                except BaseException:
                    print(f"{name}'s log:\n" + moss.moss("logs", name).stdout)  # shown with the failure
                    raise
                assert all(abs(a - b) <= 1e-6 for a, b in zip(answer["x_prime"], case["x_prime"])), (name, case)
                assert abs(answer["y"][0][0] - case["y"]) <= 1e-6, (name, case)
                assert "standardiser" in answer["refused"] and "nope" in answer["refused"]
                assert answer["missing"] == "GreengrassDependencyException"
    finally:
        clients.close_all()
        assert moss.stop() == 0, moss.log()
