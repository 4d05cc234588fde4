#!/usr/bin/env python3
"""Writes ONNX's backend node tests for the ops MossInference implements, with the onnx wheel's own generators.

Usage: python gen_onnx_node_tests.py OUTPUT_DIR   (needs `pip install onnx`; writes OUTPUT_DIR/node/test_*)
The layout is the one Debian's libonnx-testdata ships: test_<name>/model.onnx and test_data_set_0/{input,output}_<k>.pb.
"""
import argparse
import os
import sys

import onnx.backend.test.case.model as model_test
import onnx.backend.test.case.node as node_test
from onnx.backend.test import cmd_tools

# Keep in step with ONNXNodeTests.supportedOps in Tests/MossInferenceTests/ONNXNodeConformanceTests.swift.
SUPPORTED = {
    "Add", "Sub", "Mul", "Div", "Sigmoid", "Relu", "Tanh", "Clip", "MatMul", "Gemm", "Softmax", "Conv", "BatchNormalization",
    "MaxPool", "AveragePool", "GlobalAveragePool", "ReduceMean", "Pad", "Reshape", "Squeeze", "Unsqueeze", "Flatten",
    "Transpose", "Concat", "Identity", "Constant",
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("output")
    args = parser.parse_args()
    cases = [
        case for case in node_test.collect_testcases()
        if case.model is not None and {node.op_type for node in case.model.graph.node} <= SUPPORTED
    ]
    # cmd_tools.generate_data writes model tests only; hand it the node cases instead.
    model_test.collect_testcases = lambda: cases
    cmd_tools.generate_data(argparse.Namespace(output=args.output))
    print(f"wrote {len(cases)} node tests to {os.path.join(args.output, 'node')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
