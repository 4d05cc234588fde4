"""Declarative pipelines (issue 9): numbers from a shadow or from messages routed to `pipeline:ID`, through the
tutorial's two models deployed as ML resources, with a threshold, to a shadow or to a topic routed onwards; a chain
the models cannot run is refused at deployment, naming the pipeline; a bad message is counted, not fatal.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from broker_helpers import Clients
from conftest import REPOSITORY, start_moss, wait_until

SEED_MODELS = REPOSITORY.parent / "shared" / "seed-models"
pytestmark = pytest.mark.skipif(not SEED_MODELS.exists(), reason="../shared/seed-models is not there")

RESOURCES = "resources:\n" + "".join(
    f"  - id: {model}\n    name: {model}\n    machineLearningModel:\n      source: {SEED_MODELS / (model + '.zip')}\n"
    f"      destinationPath: /ggml/tensorflow/{model}\n"
    for model in ("standardiser", "rain_predictor")
)

GROUP = """\
core:
  thingName: gateway
devices:
  - thingName: sensor
subscriptions:
  - {id: in, source: "device:sensor", subject: readings/+, target: "pipeline:from-messages"}
  - {id: out, source: "pipeline:from-messages", subject: predictions/rain, target: "device:sensor"}
pipelines:
  - id: from-messages
    input: {fields: [pressure, temperature, humidity]}
    models: [standardiser, rain_predictor]
    threshold: 0.1
    output: {topic: predictions/rain, field: rain, scoreField: score}
  - id: from-the-shadow
    input: {shadow: sensor, fields: [pressure, temperature, humidity]}
    every: 0.2
    models: [standardiser, rain_predictor]
    output: {shadow: gateway, field: rain_probability}
""" + RESOURCES


def reference_cases():
    return json.loads((SEED_MODELS / "reference_outputs.json").read_text())["pipeline_cases"]


def status(moss) -> dict:
    return json.loads(moss.moss("status", "--json", check=True).stdout)


def test_pipelines_run_the_models_from_messages_and_from_a_shadow(moss_binary: Path, workspace: Path):
    (workspace / "group.yaml").write_text(GROUP)
    moss = start_moss(moss_binary, workspace / "data")
    clients = Clients(moss.mqtt_port)
    try:
        deployed = moss.moss("deploy", str(workspace / "group.yaml"))
        assert deployed.returncode == 0, deployed.stderr
        sensor = clients.connected(5, client_id="sensor")
        sensor.subscribe(("predictions/#", 1))

        # From messages, with TensorFlow's numbers, out on a topic routed back to the device.
        for case in reference_cases():
            pressure, temperature, humidity = case["raw"]
            sensor.publish("readings/bme680", json.dumps(
                {"pressure": pressure, "temperature": temperature, "humidity": humidity, "message": "ignored"}).encode(), qos=1)
            answer = json.loads(sensor.expect_publish(topic="predictions/rain", timeout=30).payload)
            assert answer["score"] == pytest.approx(case["y"], abs=1e-6), case
            assert answer["rain"] == (1 if case["y"] >= 0.1 else 0)

        # A message without the fields, or with text for a number: counted and named, the pipeline goes on.
        sensor.publish("readings/bme680", b'{"pressure": 1000, "temperature": "warm", "humidity": 50}', qos=1)
        failed = wait_until(
            lambda: next((p for p in status(moss)["pipelines"] if p["id"] == "from-messages" and p["failures"] >= 1), None),
            "the bad message is counted",
        )
        assert "temperature in the message on readings/bme680 is not a number" in failed["lastError"]

        # From the sensor's shadow to the core's, every 0.2 s.
        case = reference_cases()[0]
        pressure, temperature, humidity = case["raw"]
        update = {"state": {"reported": {"pressure": pressure, "temperature": temperature, "humidity": humidity}}}
        moss.moss("shadow", "update", "sensor", json.dumps(update), check=True)

        def core_probability():
            result = moss.moss("shadow", "get", "gateway")
            if result.returncode != 0:
                return None
            return json.loads(result.stdout)["state"]["reported"].get("rain_probability")

        assert wait_until(core_probability, "the pipeline writes the core's shadow", timeout=30) == pytest.approx(
            case["y"], abs=1e-6)
        shadow_pipeline = next(p for p in status(moss)["pipelines"] if p["id"] == "from-the-shadow")
        assert shadow_pipeline["input"] == "shadow:sensor" and shadow_pipeline["output"] == "shadow:gateway"
    finally:
        clients.close_all()
        assert moss.stop() == 0, moss.log()


def test_a_chain_the_models_cannot_run_is_refused_and_nothing_changes(moss_binary: Path, workspace: Path):
    (workspace / "good.yaml").write_text(GROUP)
    bad = GROUP.replace("input: {fields: [pressure, temperature, humidity]}", "input: {fields: [pressure, humidity]}")
    (workspace / "bad.yaml").write_text(bad)
    moss = start_moss(moss_binary, workspace / "data")
    try:
        assert moss.moss("deploy", str(workspace / "good.yaml")).returncode == 0
        refused = moss.moss("deploy", str(workspace / "bad.yaml"))
        assert refused.returncode != 0
        assert "Pipeline from-messages: model standardiser cannot take 2 input numbers" in refused.stderr, refused.stderr
        # The group in effect is still the good one.
        records = json.loads(moss.moss("deployments", "--json", check=True).stdout)
        assert [record["status"] for record in records] == ["Success", "Failure"]
        assert {p["id"] for p in status(moss)["pipelines"]} == {"from-messages", "from-the-shadow"}
    finally:
        assert moss.stop() == 0, moss.log()
