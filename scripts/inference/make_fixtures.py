#!/usr/bin/env python3
"""Writes MossInference's own test fixtures: small TensorFlow SavedModels covering every TensorFlow op Moss supports,
their tf2onnx exports (covering the ONNX side), and TensorFlow's outputs for fixed inputs.

Run in a throwaway venv (never committed):
    python3 -m venv /tmp/moss-fixtures && /tmp/moss-fixtures/bin/pip install tensorflow-cpu tf2onnx onnx onnxruntime
    /tmp/moss-fixtures/bin/python scripts/inference/make_fixtures.py Tests/MossInferenceTests/Fixtures
Each fixture is FIXTURES/<name>/{saved_model/, model.onnx, expected.json}; expected.json holds the inputs and
TensorFlow's outputs (and ONNX Runtime's on the export, as a check of the export itself).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import tensorflow as tf

rng = np.random.default_rng(7)


def weights(*shape, scale=0.5):
    return tf.Variable(rng.normal(0.0, scale, size=shape).astype(np.float32))


class Arithmetic(tf.Module):
    """Sub, RealDiv, Mul, AddV2 with broadcasting, on variables (VarHandleOp / ReadVariableOp) and constants."""

    def __init__(self):
        self.mean = weights(4)
        self.scale = tf.Variable(np.array([1.5, 2.0, 0.5, 4.0], np.float32))

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])
    def __call__(self, x):
        z = (x - self.mean) / self.scale
        return {"z": tf.identity(z * tf.constant(3.0) + tf.constant([1.0, -1.0, 0.5, 0.0]))}


class Mlp(tf.Module):
    """MatMul, BiasAdd and each activation: Sigmoid, Relu, Relu6, Tanh, Softmax."""

    def __init__(self):
        self.w = [weights(6, 8), weights(8, 8), weights(8, 8), weights(8, 5)]
        self.b = [weights(8), weights(8), weights(8), weights(5)]

    @tf.function(input_signature=[tf.TensorSpec([None, 6], tf.float32)])
    def __call__(self, x):
        h = tf.sigmoid(tf.nn.bias_add(tf.matmul(x, self.w[0]), self.b[0]))
        h = tf.nn.relu(tf.nn.bias_add(tf.matmul(h, self.w[1]), self.b[1]))
        h = tf.nn.relu6(tf.nn.bias_add(tf.matmul(h, self.w[2]), self.b[2]) * 4.0)
        h = tf.tanh(h - 3.0)
        logits = tf.nn.bias_add(tf.matmul(h, self.w[3], transpose_b=False), self.b[3])
        return {"probabilities": tf.nn.softmax(logits), "hidden": h}


class Cnn(tf.Module):
    """Conv2D, DepthwiseConv2dNative, FusedBatchNormV3, MaxPool, AvgPool, Mean, Pad, Reshape, Squeeze, Transpose,
    ConcatV2, in NHWC as Keras builds them."""

    def __init__(self):
        self.conv1 = weights(3, 3, 3, 8)
        self.bn = [weights(8, scale=0.2), weights(8, scale=0.2), weights(8, scale=0.2),
                   tf.Variable(rng.uniform(0.5, 1.5, 8).astype(np.float32))]
        self.depthwise = weights(3, 3, 8, 1)
        self.pointwise = weights(1, 1, 8, 12)
        self.branch = weights(1, 1, 8, 4)
        self.dense = weights(16 * 2 * 2, 10, scale=0.1)
        self.dense_bias = weights(10)

    @tf.function(input_signature=[tf.TensorSpec([None, 16, 16, 3], tf.float32)])
    def __call__(self, x):
        h = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])
        h = tf.nn.conv2d(h, self.conv1, strides=2, padding="VALID")  # 8x8x8
        h, _, _ = tf.compat.v1.nn.fused_batch_norm(h, self.bn[0] + 1.0, self.bn[1], self.bn[2], self.bn[3],
                                                   epsilon=1e-3, is_training=False)
        h = tf.nn.relu6(h)
        d = tf.nn.depthwise_conv2d(h, self.depthwise, strides=[1, 1, 1, 1], padding="SAME")
        d = tf.nn.relu(d)
        p = tf.nn.max_pool2d(d, ksize=2, strides=2, padding="VALID")  # 4x4x8
        a = tf.nn.avg_pool2d(d, ksize=3, strides=2, padding="SAME")  # 4x4x8
        main = tf.nn.conv2d(p, self.pointwise, strides=1, padding="SAME")  # 4x4x12
        side = tf.nn.conv2d(a, self.branch, strides=1, padding="VALID")  # 4x4x4
        joined = tf.concat([main, side], axis=3)  # 4x4x16
        pooled = tf.nn.avg_pool2d(joined, ksize=2, strides=2, padding="VALID")  # 2x2x16
        chw = tf.transpose(pooled, [0, 3, 1, 2])
        flat = tf.reshape(chw, [-1, 16 * 2 * 2])
        logits = tf.nn.bias_add(tf.matmul(flat, self.dense), self.dense_bias)
        gap = tf.reduce_mean(joined, axis=[1, 2], keepdims=True)  # Mean, 1x1x16
        features = tf.squeeze(gap, axis=[1, 2])
        return {"logits": logits, "features": features}


MODELS = {
    "arithmetic": (Arithmetic, [[3, 4]]),
    "mlp": (Mlp, [[2, 6]]),
    "cnn": (Cnn, [[2, 16, 16, 3]]),
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("output")
    parser.add_argument("--opset", type=int, default=17)
    args = parser.parse_args()
    for name, (cls, shapes) in MODELS.items():
        module = cls()
        folder = os.path.join(args.output, name)
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        saved = os.path.join(folder, "saved_model")
        tf.saved_model.save(module, saved, signatures={"serving_default": module.__call__.get_concrete_function()})
        signature = tf.saved_model.load(saved).signatures["serving_default"]
        input_name = list(signature.structured_input_signature[1].keys())[0]
        inputs = [rng.normal(0.0, 1.0, size=shape).astype(np.float32) for shape in shapes]
        outputs = {key: value.numpy() for key, value in signature(**{input_name: tf.constant(inputs[0])}).items()}
        onnx_path = os.path.join(folder, "model.onnx")
        subprocess.run([sys.executable, "-m", "tf2onnx.convert", "--saved-model", saved, "--signature_def", "serving_default",
                        "--opset", str(args.opset), "--output", onnx_path], check=True, capture_output=True)
        import onnxruntime as ort
        session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
        ort_inputs = {session.get_inputs()[0].name: inputs[0]}
        ort_outputs = dict(zip([o.name for o in session.get_outputs()], session.run(None, ort_inputs)))
        for key, value in outputs.items():
            np.testing.assert_allclose(ort_outputs[key], value, rtol=1e-4, atol=1e-5)
        import onnx
        ops = sorted({node.op_type for node in onnx.load(onnx_path).graph.node})
        tf_ops = sorted({node.op for f in tf.saved_model.load(saved).signatures["serving_default"].graph.as_graph_def().library.function
                         for node in f.node_def})
        with open(os.path.join(folder, "expected.json"), "w") as f:
            json.dump({
                "signature": "serving_default",
                "inputs": {input_name: inputs[0].tolist()},
                "onnx_inputs": {session.get_inputs()[0].name: inputs[0].tolist()},
                "outputs": {key: value.tolist() for key, value in outputs.items()},
                "tensorflow_ops": tf_ops,
                "onnx_ops": ops,
                "tensorflow_version": tf.__version__,
            }, f, sort_keys=True)
        print(f"{name}: TF ops {tf_ops}; ONNX ops {ops}")
    onnx_only(os.path.join(args.output, "onnx_ops"))
    return 0


def onnx_only(folder):
    """ONNX ops tf2onnx folds away (BatchNormalization, Pad, Gemm, Flatten, Div, Identity, ReduceMean, Unsqueeze),
    in a graph written with onnx.helper; the expected outputs are ONNX Runtime's."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    f32 = lambda *shape: rng.normal(0.0, 0.5, size=shape).astype(np.float32)  # noqa: E731
    initializers = [
        numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "pads"),
        numpy_helper.from_array(f32(4, 3, 3, 3), "conv_w"),
        numpy_helper.from_array(f32(4), "conv_b"),
        numpy_helper.from_array(f32(4) + 1, "bn_scale"),
        numpy_helper.from_array(f32(4), "bn_bias"),
        numpy_helper.from_array(f32(4), "bn_mean"),
        numpy_helper.from_array(rng.uniform(0.5, 1.5, 4).astype(np.float32), "bn_var"),
        numpy_helper.from_array(f32(5, 36), "fc_w"),
        numpy_helper.from_array(f32(5), "fc_b"),
        numpy_helper.from_array(np.array([2.0], np.float32), "two"),
        numpy_helper.from_array(np.array([1], np.int64), "axis1"),
    ]
    nodes = [
        helper.make_node("Pad", ["x", "pads"], ["padded"], mode="reflect"),
        helper.make_node("Conv", ["padded", "conv_w", "conv_b"], ["conv"], kernel_shape=[3, 3], strides=[1, 1]),
        helper.make_node("BatchNormalization", ["conv", "bn_scale", "bn_bias", "bn_mean", "bn_var"], ["bn"], epsilon=1e-5),
        helper.make_node("Relu", ["bn"], ["relu"]),
        helper.make_node("AveragePool", ["relu"], ["pool"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["pool"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["fc"], alpha=0.5, beta=1.0, transB=1),
        helper.make_node("Div", ["fc", "two"], ["halved"]),
        helper.make_node("Identity", ["halved"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1),
        helper.make_node("ReduceMean", ["bn"], ["channel_means"], axes=[2, 3], keepdims=0),
        helper.make_node("Unsqueeze", ["channel_means", "axis1"], ["means"]),
    ]
    graph = helper.make_graph(
        nodes, "onnx_ops", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 6, 6])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 5]),
         helper.make_tensor_value_info("means", TensorProto.FLOAT, ["batch", 1, 4])], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(folder, "model.onnx"))
    x = rng.normal(0.0, 1.0, size=(2, 3, 6, 6)).astype(np.float32)
    session = ort.InferenceSession(os.path.join(folder, "model.onnx"), providers=["CPUExecutionProvider"])
    probabilities, means = session.run(None, {"x": x})
    with open(os.path.join(folder, "expected.json"), "w") as f:
        json.dump({"signature": "serving_default", "onnx_inputs": {"x": x.tolist()},
                   "outputs": {"probabilities": probabilities.tolist(), "means": means.tolist()},
                   "onnx_ops": sorted({node.op_type for node in nodes}), "onnxruntime_version": ort.__version__}, f, sort_keys=True)
    print(f"onnx_ops: ONNX ops {sorted({node.op_type for node in nodes})}")


if __name__ == "__main__":
    sys.exit(main())
