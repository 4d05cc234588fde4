"""The demo's own ML resources (Sources/MossDemo/Assets/models, made by scripts/demo/train_models.py): Moss's engine,
through `moss infer` on the unzipped SavedModels, gives TensorFlow's numbers for every reference case, called with the
signatures and the (1, 3) shape the tutorial's inference Lambda uses.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from conftest import REPOSITORY, run_moss

MODELS = REPOSITORY / "Sources" / "MossDemo" / "Assets" / "models"
REFERENCE = json.loads((MODELS / "reference.json").read_text())
TOLERANCE = 1e-6  # TensorFlow's own results move by a few ulp with the batch size; the engine is within that


@pytest.fixture(scope="module")
def unzipped(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("demo-models")
    directories = {}
    for name in ("standardiser", "rain_predictor"):
        with zipfile.ZipFile(MODELS / f"{name}.zip") as archive:
            # As the tutorial zipped its models: the SavedModel's contents at the root, nothing else.
            assert "saved_model.pb" in archive.namelist() and all(not n.startswith(("/", "..")) for n in archive.namelist())
            archive.extractall(root / name)
        directories[name] = root / name
    return directories


def infer(moss_binary: Path, model: Path, name: str, values) -> dict:
    result = run_moss(moss_binary, "infer", str(model), "--input", f"{name}={json.dumps(values)}")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=lambda case: f"wetness-{case['wetness']}")
def test_moss_runs_the_demo_models_as_tensorflow_did(moss_binary, unzipped, case):
    signatures = REFERENCE["signatures"]
    standardised = infer(moss_binary, unzipped["standardiser"], signatures["standardiser"]["input"], [case["raw"]])
    x_prime = standardised[signatures["standardiser"]["output"]]
    assert len(x_prime) == 1 and len(x_prime[0]) == 3
    assert all(abs(a - b) <= TOLERANCE for a, b in zip(x_prime[0], case["x_prime"])), (x_prime, case)

    predicted = infer(moss_binary, unzipped["rain_predictor"], signatures["rain_predictor"]["input"], x_prime)
    y = predicted[signatures["rain_predictor"]["output"]]
    assert abs(y[0][0] - case["y"]) <= TOLERANCE, (y, case)
    assert int(y[0][0] >= REFERENCE["classification_threshold"]) == case["rain_prediction"]


def test_the_reference_covers_dry_and_rain_and_the_models_mostly_agree_with_the_weather():
    cases = REFERENCE["cases"]
    assert {case["rain_prediction"] for case in cases} == {0, 1}
    assert sum(case["rain_prediction"] == int(case["raining"]) for case in cases) >= len(cases) - 2
    assert REFERENCE["training"]["held_out_accuracy"] >= 0.9
    assert REFERENCE["features"] == ["pressure_hPa", "temperature_C", "humidity_pct"]
