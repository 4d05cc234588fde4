#!/usr/bin/env python3
"""Trains the demo's two ML resources on a synthetic weather model and writes them, zipped as the tutorial zipped its
models, with TensorFlow's outputs for a few readings:

    Sources/MossDemo/Assets/models/standardiser.zip    serving_default: x (None, 3) -> x_prime = (x - means) / std_devs
    Sources/MossDemo/Assets/models/rain_predictor.zip  serving_default: input (None, 3) -> y, Dense(3->6, sigmoid) ->
                                                       Dense(6->1, sigmoid), a tf_keras Sequential as in the tutorial
    Sources/MossDemo/Assets/models/reference.json      the weather model's constants, the training report, and cases:
                                                       raw [pressure, temperature, humidity] -> x_prime -> y

Both keep the tutorial models' structure and signature names, so the tutorial's inference Lambda runs them unchanged
and Moss's engine runs them with the ops it supports for the tutorial's own models.

Run in a throwaway venv (never committed):
    python3 -m venv /tmp/moss-demo-models && /tmp/moss-demo-models/bin/pip install tensorflow-cpu==2.21.0
    /tmp/moss-demo-models/bin/pip install --no-deps tf-keras==2.21.0   # its dependency would add the full tensorflow
    /tmp/moss-demo-models/bin/python scripts/demo/train_models.py Sources/MossDemo/Assets/models
The output is deterministic: fixed seeds, one CPU thread, deterministic ops, and zip entries with a fixed time and mode
(with fingerprint.pb's random uuid replaced by one derived from the model's hashes, the zips are the same bytes on every
run with the same TensorFlow).
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import zipfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # oneDNN's kernels may reorder float sums between runs

import numpy as np
import tensorflow as tf
import tf_keras

# The weather model. The demo's sensor simulator (Swift, MossDemo) draws its readings from the same model, so these
# constants are mirrored there and written into reference.json; change both together.
WEATHER = {
    "rain_threshold": 0.6,  # it rains iff the hidden wetness w in [0, 1] is >= this
    "pressure_hPa": {"base": 1016.0, "per_wetness": -24.0, "noise_sd": 1.5},
    "temperature_C": {"base": 14.0, "per_wetness": -7.0, "noise_sd": 1.0},
    "humidity_pct": {"base": 52.0, "per_wetness": 45.0, "noise_sd": 3.0, "clip": [0.0, 100.0]},
}
FEATURES = ["pressure_hPa", "temperature_C", "humidity_pct"]  # the tutorial's parse_shadow order, everywhere
SEED = 20200616  # the tutorial repository's last commit date
TRAINING_ROWS = 4000
TEST_ROWS = 1000
EPOCHS = 40
BATCH_SIZE = 32
LEARNING_RATE = 0.02
ZIP_TIME = (2020, 6, 16, 0, 0, 0)


def readings(wetness: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rows of [pressure, temperature, humidity] for each wetness, with the model's noise."""
    columns = []
    for name in FEATURES:
        spec = WEATHER[name]
        value = spec["base"] + spec["per_wetness"] * wetness + rng.normal(0.0, spec["noise_sd"], size=wetness.shape)
        if "clip" in spec:
            value = np.clip(value, *spec["clip"])
        columns.append(value)
    return np.stack(columns, axis=1).astype(np.float32)


def dataset(rows: int, rng: np.random.Generator):
    wetness = rng.uniform(0.0, 1.0, size=rows)
    return readings(wetness, rng), (wetness >= WEATHER["rain_threshold"]).astype(np.float32).reshape(-1, 1)


class Standardiser(tf.Module):
    """(x - means) / std_devs, as the tutorial's standardiser (Sub, RealDiv on two variables)."""

    def __init__(self, means: np.ndarray, std_devs: np.ndarray):
        super().__init__()
        self.means = tf.Variable(means, name="means")
        self.std_devs = tf.Variable(std_devs, name="std_devs")

    # (None, 3) rather than the tutorial's (3): the Lambda feeds (1, 3), and this says so.
    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
    def __call__(self, x):
        return {"x_prime": (x - self.means) / self.std_devs}


def rain_predictor() -> tf_keras.Sequential:
    """The tutorial's `mymodel`: Dense(3->6, sigmoid) named dense, Dense(6->1, sigmoid) named y, input named input."""
    return tf_keras.Sequential(
        [
            tf_keras.Input(shape=(3,), name="input"),
            tf_keras.layers.Dense(6, activation="sigmoid", name="dense"),
            tf_keras.layers.Dense(1, activation="sigmoid", name="y"),
        ],
        name="mymodel",
    )


def fix_fingerprint_uuid(directory: str) -> None:
    """fingerprint.pb holds a random uuid, the one part of a SavedModel that differs between identical saves; it becomes
    one derived from the model's own hashes, so the same model is the same bytes."""
    from tensorflow.core.protobuf import fingerprint_pb2

    path = os.path.join(directory, "fingerprint.pb")
    if not os.path.exists(path):
        return
    fingerprint = fingerprint_pb2.FingerprintDef()
    with open(path, "rb") as file:
        fingerprint.ParseFromString(file.read())
    if fingerprint.uuid:
        fingerprint.uuid = str((fingerprint.saved_model_checksum << 64) | fingerprint.checkpoint_hash)
    with open(path, "wb") as file:
        file.write(fingerprint.SerializeToString(deterministic=True))


def zip_saved_model(directory: str, destination: str) -> None:
    """The SavedModel folder's contents at the zip root (as the tutorial zipped its models), in a fixed order with a
    fixed time and mode, so the same model is the same bytes."""
    names = []
    for root, _, files in os.walk(directory):
        for name in files:
            names.append(os.path.relpath(os.path.join(root, name), directory))
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in sorted(names):
            info = zipfile.ZipInfo(name.replace(os.sep, "/"), date_time=ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(os.path.join(directory, name), "rb") as source:
                archive.writestr(info, source.read(), compresslevel=9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", help="directory for standardiser.zip, rain_predictor.zip and reference.json")
    output = parser.parse_args().output
    os.makedirs(output, exist_ok=True)

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf_keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    rng = np.random.default_rng(SEED)
    x_train, y_train = dataset(TRAINING_ROWS, rng)
    x_test, y_test = dataset(TEST_ROWS, rng)

    # Sample standard deviation, as the tutorial's df.describe() gave.
    means = x_train.astype(np.float64).mean(axis=0).astype(np.float32)
    std_devs = x_train.astype(np.float64).std(axis=0, ddof=1).astype(np.float32)
    standardiser = Standardiser(means, std_devs)

    model = rain_predictor()
    model.compile(
        optimizer=tf_keras.optimizers.Adam(LEARNING_RATE), loss="binary_crossentropy", metrics=["accuracy"]
    )
    model.fit(
        standardiser(x_train)["x_prime"], y_train, epochs=EPOCHS, batch_size=BATCH_SIZE, shuffle=True, verbose=0
    )
    train_loss, train_accuracy = model.evaluate(standardiser(x_train)["x_prime"], y_train, verbose=0)
    test_loss, test_accuracy = model.evaluate(standardiser(x_test)["x_prime"], y_test, verbose=0)
    print(f"accuracy: training {train_accuracy:.4f} (loss {train_loss:.4f}), held out {test_accuracy:.4f} "
          f"(loss {test_loss:.4f}, {TEST_ROWS} rows)")

    with tempfile.TemporaryDirectory() as scratch:
        standardiser_dir = os.path.join(scratch, "standardiser")
        predictor_dir = os.path.join(scratch, "rain_predictor")
        tf.saved_model.save(standardiser, standardiser_dir, signatures={"serving_default": standardiser.__call__})
        # Without the optimizer: its slot variables are of no use for inference, and a Keras-2 optimizer in the
        # object graph is what stops TF 2.21 + Keras 3 loading the tutorial's own rain_predictor.
        model.save(predictor_dir, include_optimizer=False, save_format="tf")

        # The reference: what TensorFlow computes from the saved models, called as the tutorial's Lambda calls them.
        loaded_standardiser = tf.saved_model.load(standardiser_dir).signatures["serving_default"]
        loaded_predictor = tf.saved_model.load(predictor_dir).signatures["serving_default"]
        cases = []
        case_rng = np.random.default_rng(SEED + 1)
        for wetness in [0.0, 0.2, 0.4, 0.5, 0.58, 0.62, 0.7, 0.85, 1.0]:
            raw = readings(np.array([wetness]), case_rng)[0]
            raw = [round(float(v), 1) for v in raw]  # as a sensor reports them
            x_prime = loaded_standardiser(tf.constant([raw], tf.float32))["x_prime"]
            y = loaded_predictor(x_prime)["y"].numpy()
            cases.append({
                "wetness": wetness,
                "raining": wetness >= WEATHER["rain_threshold"],
                "raw": raw,
                "x_prime": [float(v) for v in x_prime.numpy()[0]],
                "y": float(y[0][0]),
                "y_hex": np.float32(y[0][0]).tobytes().hex(),
                "rain_prediction": int(y[0][0] >= 0.5),
            })

        for name, directory in (("standardiser", standardiser_dir), ("rain_predictor", predictor_dir)):
            shutil.rmtree(os.path.join(directory, "assets"), ignore_errors=True)  # empty; the tutorial's zips had none
            fix_fingerprint_uuid(directory)
            zip_saved_model(directory, os.path.join(output, f"{name}.zip"))

    reference = {
        "comment": "Written by scripts/demo/train_models.py; TensorFlow's outputs on the models in this directory. "
                   "Compare with an absolute tolerance of 1e-6.",
        "tensorflow": tf.__version__,
        "weather": WEATHER,
        "features": FEATURES,
        "seed": SEED,
        "training": {
            "rows": TRAINING_ROWS, "epochs": EPOCHS, "batch_size": BATCH_SIZE, "learning_rate": LEARNING_RATE,
            "accuracy": round(float(train_accuracy), 4), "held_out_rows": TEST_ROWS,
            "held_out_accuracy": round(float(test_accuracy), 4),
        },
        "standardiser": {"means": [float(v) for v in means], "std_devs": [float(v) for v in std_devs]},
        "signatures": {
            "standardiser": {"signature": "serving_default", "input": "x", "output": "x_prime"},
            "rain_predictor": {"signature": "serving_default", "input": "input", "output": "y"},
        },
        "classification_threshold": 0.5,
        "cases": cases,
    }
    with open(os.path.join(output, "reference.json"), "w") as file:
        json.dump(reference, file, indent=2)
        file.write("\n")
    for name in ("standardiser.zip", "rain_predictor.zip", "reference.json"):
        print(f"{name}: {os.path.getsize(os.path.join(output, name))} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
