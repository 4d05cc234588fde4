#!/usr/bin/env python3
"""The Python side of scripts/bench/inference.sh: prepares the benchmark models and times TensorFlow and
ONNX Runtime in Python. Runs in the throwaway venv the shell script makes (tensorflow-cpu, tf-keras, tf2onnx,
onnxruntime). Prints one JSON object per line.

  prepare WORK SEED_DIR   unzip the tutorial's models, export them to ONNX, build a MobileNetV2 (random weights)
  tf-pipeline WORK        the tutorial Lambda's loop in TensorFlow: standardiser -> rain_predictor -> .numpy() -> threshold
  ort-pipeline WORK       the same pipeline on the tf2onnx exports in ONNX Runtime (1 thread)
  ort-model PATH          one ONNX model at 1x3x224x224 or 1x224x224x3 (from the model) in ONNX Runtime (1 thread)
"""
import json
import os
import subprocess
import sys
import time
import zipfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

READINGS = [[1005, 21, 78], [1005.2359619, 4.7374167, 71.0542679], [951.1, -6.4, 22], [1036.4, 20.1, 97],
            [974.8, 0.7, 95], [984.8, 1.9, 95], [1007.6, 2.7, 36], [0, 0, 0]]


def p50(samples):
    return sorted(samples)[len(samples) // 2]


def prepare(work, seeds):
    import tensorflow as tf
    models = os.path.join(work, "models")
    for name in ["standardiser", "rain_predictor"]:
        target = os.path.join(models, name)
        if not os.path.exists(os.path.join(target, "saved_model.pb")):
            with zipfile.ZipFile(os.path.join(seeds, f"{name}.zip")) as archive:
                archive.extractall(target)
        onnx_path = os.path.join(work, f"{name}.onnx")
        if not os.path.exists(onnx_path):
            subprocess.run([sys.executable, "-m", "tf2onnx.convert", "--saved-model", target, "--signature_def",
                            "serving_default", "--opset", "17", "--output", onnx_path], check=True, capture_output=True)
    mobilenet = os.path.join(work, "mobilenet_v2")
    if not os.path.exists(os.path.join(mobilenet, "saved_model.pb")):
        import tf_keras
        tf_keras.utils.set_random_seed(1)
        model = tf_keras.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3))
        spec = tf.TensorSpec([1, 224, 224, 3], tf.float32, name="input")
        serve = tf.function(lambda x: {"probabilities": model(x, training=False)}).get_concrete_function(spec)
        tf.saved_model.save(model, mobilenet, signatures={"serving_default": serve})
    onnx_path = os.path.join(work, "mobilenet_v2.onnx")
    if not os.path.exists(onnx_path):
        subprocess.run([sys.executable, "-m", "tf2onnx.convert", "--saved-model", mobilenet, "--signature_def",
                        "serving_default", "--opset", "17", "--inputs-as-nchw", "input:0", "--output", onnx_path],
                       check=True, capture_output=True)
    print(json.dumps({"prepared": work}))


def tf_pipeline(work):
    import tensorflow as tf
    import tensorflow as _  # noqa: F401
    standardiser = tf.saved_model.load(os.path.join(work, "models/standardiser")).signatures["serving_default"]
    predictor = tf.saved_model.load(os.path.join(work, "models/rain_predictor")).signatures["serving_default"]
    samples = []
    for i in range(3000):
        start = time.perf_counter()
        features = standardiser(tf.constant([READINGS[i % 8]], dtype=tf.float32))["x_prime"]
        y = predictor(features)["y"].numpy()
        _ = 1 if y[0][0] > 0.5 else 0
        samples.append(time.perf_counter() - start)
    print(json.dumps({"benchmark": "pipeline", "engine": "tensorflow-python", "version": tf.__version__,
                      "us_p50": p50(samples[300:]) * 1e6, "us_min": min(samples) * 1e6}))


def session(path):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def ort_pipeline(work):
    import numpy as np
    import onnxruntime as ort
    standardiser = session(os.path.join(work, "standardiser.onnx"))
    predictor = session(os.path.join(work, "rain_predictor.onnx"))
    # ONNX Runtime rejects the Lambda's (1, 3) for the (3) signature, so the standardiser gets (3) and its output is
    # reshaped, which is what a caller has to do.
    samples = []
    readings = [np.array(r, np.float32) for r in READINGS]
    for i in range(30000):
        start = time.perf_counter()
        x_prime = standardiser.run(None, {"x": readings[i % 8]})[0]
        y = predictor.run(None, {"input": x_prime.reshape(1, 3)})[0]
        _ = 1 if y[0][0] > 0.5 else 0
        samples.append(time.perf_counter() - start)
    print(json.dumps({"benchmark": "pipeline", "engine": "onnxruntime-python", "version": ort.__version__,
                      "us_p50": p50(samples[3000:]) * 1e6, "us_min": min(samples) * 1e6}))


def ort_model(path):
    import numpy as np
    import onnxruntime as ort
    start = time.perf_counter()
    model = session(path)
    load = time.perf_counter() - start
    declared = model.get_inputs()[0]
    shape = [1 if not isinstance(d, int) else d for d in declared.shape]
    x = np.random.default_rng(1).uniform(-1, 1, size=shape).astype(np.float32)
    for _ in range(5):
        model.run(None, {declared.name: x})
    samples = []
    cpu_samples = []  # CPU time of the process: leaves out waiting for a core on a loaded machine
    repeats = int(os.environ.get("MOSS_BENCH_ORT_REPEATS", "50"))
    for _ in range(repeats):
        start = time.perf_counter()
        cpu_start = time.process_time()
        model.run(None, {declared.name: x})
        cpu_samples.append(time.process_time() - cpu_start)
        samples.append(time.perf_counter() - start)
    print(json.dumps({"benchmark": "model", "engine": "onnxruntime-python", "version": ort.__version__, "path": path,
                      "input": declared.name, "shape": shape, "ms_p50": p50(samples) * 1e3, "ms_min": min(samples) * 1e3,
                      "cpu_ms_p50": p50(cpu_samples) * 1e3, "cpu_ms_min": min(cpu_samples) * 1e3,
                      "load_ms": load * 1e3}))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "prepare":
        prepare(sys.argv[2], sys.argv[3])
    elif mode == "tf-pipeline":
        tf_pipeline(sys.argv[2])
    elif mode == "ort-pipeline":
        ort_pipeline(sys.argv[2])
    elif mode == "ort-model":
        ort_model(sys.argv[2])
    else:
        sys.exit(f"unknown mode {mode}")
