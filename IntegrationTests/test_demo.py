"""`moss demo` end to end (issue 9), with real processes: the demo's own sensor over mutual TLS, its republishing
function, its pinned inference function (the IPC inference service) and its declarative pipeline. Faster intervals
than the demo's defaults, so a weather cycle takes seconds. Checks that readings reach the shadow, that predictions
appear and change when the weather does, and that the pipeline and the Python function agree on the same state.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from cloud_helpers import cloud  # noqa: F401 (fixture)
from conftest import run_moss, wait_until

pytest.importorskip("greengrasssdk", reason="pip install greengrasssdk==1.6.1 (scripts/test.sh does)")

READINGS = 100  # 0.2 s apart: 20 s, two and a half weather cycles of 8 s
DEADLINE = 150.0


class Demo:
    """A running `moss demo --json`, its lines read on a thread so that waiting has a deadline."""

    def __init__(self, binary: Path, data_dir: Path, *arguments: str):
        self.data_dir = data_dir
        # A relative --data-dir, as a newcomer types it.
        self.process = subprocess.Popen(
            [str(binary), "demo", "--json", "--data-dir", data_dir.name, "--mqtt-port", "0", "--mqtts-port", "0",
             "--reading-interval", "0.2", "--weather-cycle", "8", *arguments],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=data_dir.parent,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.text: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.text.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def predictions(self, deadline: float):
        """The JSON prediction lines, until the deadline."""
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                pytest.fail("moss demo exited early:\n" + "".join(self.text) + self.process.stderr.read())
            if line.startswith("{"):
                yield json.loads(line)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                return self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                return -9
        return self.process.returncode


def test_the_demo_predicts_rain_from_the_sensor_through_the_function_and_the_pipeline(moss_binary: Path, workspace: Path):
    data_dir = workspace / "demo"
    demo = Demo(moss_binary, data_dir, "--inference-interval", "0.5", "--readings", str(READINGS))
    try:
        deadline = time.monotonic() + DEADLINE
        function_classes: set[int] = set()
        pipeline_classes: set[int] = set()
        after_last_reading = {"function": 0, "pipeline": 0}
        last = None
        for line in demo.predictions(deadline):
            last = line
            if "function" in line:
                function_classes.add(line["function"]["rain_prediction"])
            if "pipeline" in line:
                pipeline_classes.add(line["pipeline"]["rain_prediction"])
            # Once the sensor has stopped and both have predicted twice since, both worked on the same state.
            if line.get("reading", {}).get("number") == READINGS:
                for source in after_last_reading:
                    if line[f"new{source.capitalize()}Prediction"]:
                        after_last_reading[source] += 1
            if min(after_last_reading.values()) >= 3:
                break
        assert last is not None, "no prediction within %.0f s:\n%s" % (DEADLINE, "".join(demo.text))
        assert min(after_last_reading.values()) >= 3, f"the predictions stopped: {last}"

        # Readings reached the shadow through the republishing function.
        shadow = json.loads(run_moss(moss_binary, "shadow", "get", "bme680-sensor", "--data-dir", str(data_dir),
                                     check=True).stdout)
        reported = shadow["state"]["reported"]
        for key in ("temperature", "humidity", "pressure", "message", "rain_prediction", "rain_probability",
                    "pipeline_rain_prediction", "pipeline_rain_probability"):
            assert key in reported, f"{key} missing from the shadow: {reported}"
        assert reported["message"] == f"reading {READINGS} from the simulated BME680"

        # The weather went from dry to rain and back: both predictors said both.
        assert function_classes == {0, 1}, f"the function's predictions never changed: {function_classes}"
        assert pipeline_classes == {0, 1}, f"the pipeline's predictions never changed: {pipeline_classes}"

        # Same state, same models, same engine: the same answer.
        assert reported["rain_prediction"] == reported["pipeline_rain_prediction"]
        assert reported["rain_probability"] == pytest.approx(reported["pipeline_rain_probability"], abs=1e-6)
    finally:
        code = demo.stop()
    assert code == 0, "moss demo did not stop cleanly:\n" + "".join(demo.text) + demo.process.stderr.read()
    assert "Stopped." in "".join(demo.text)


def test_without_functions_the_pipeline_alone_predicts_from_the_sensors_messages(moss_binary: Path, workspace: Path):
    data_dir = workspace / "demo"
    demo = Demo(moss_binary, data_dir, "--pipeline-only")
    try:
        classes: set[int] = set()
        for line in demo.predictions(time.monotonic() + DEADLINE):
            assert "function" not in line
            classes.add(line["pipeline"]["rain_prediction"])
            if classes == {0, 1}:
                break
        assert classes == {0, 1}, "the pipeline did not follow the weather:\n" + "".join(demo.text)
        group = (data_dir / "demo" / "group.yaml").read_text()
        assert "\nfunctions:" not in group and "target: pipeline:rain-native" in group
    finally:
        code = demo.stop()
    assert code == 0


def test_with_the_cloud_the_sensors_shadow_and_predictions_reach_aws_iot(cloud, moss_binary: Path, workspace: Path):
    cloud.moto.create_thing("bme680-sensor")
    config = workspace / "moss.yaml"
    config.write_text(cloud.config())
    demo = Demo(moss_binary, workspace / "demo", "--pipeline-only", "--cloud", "--config", str(config))
    try:
        def cloud_reported():
            shadow = cloud.moto.shadow("bme680-sensor") or {}
            return shadow.get("state", {}).get("reported", {})

        reported = wait_until(
            lambda: (r := cloud_reported()).get("pipeline_rain_prediction") is not None and r,
            "the pipeline's prediction is in AWS IoT's shadow", timeout=60,
        )
        assert 0.0 <= reported["pipeline_rain_probability"] <= 1.0
    finally:
        code = demo.stop()
    assert code == 0, "".join(demo.text) + demo.process.stderr.read()
