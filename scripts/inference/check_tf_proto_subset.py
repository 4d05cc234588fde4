#!/usr/bin/env python3
"""Check that every field of proto/tensorflow_subset.proto has TensorFlow's number and type.

Usage (in a venv with tensorflow-cpu): python check_tf_proto_subset.py
Compiles the subset with protoc and compares each message and enum against the descriptors that the
tensorflow wheel embeds in its *_pb2 modules. Exits 1 on any mismatch.
"""
import os
import subprocess
import sys
import tempfile

from google.protobuf import descriptor_pb2
from tensorflow.core.framework import attr_value_pb2, function_pb2, graph_pb2, node_def_pb2  # noqa: F401
from tensorflow.core.framework import op_def_pb2, tensor_pb2, tensor_shape_pb2, types_pb2, versions_pb2  # noqa: F401
from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2, saver_pb2, tensor_bundle_pb2  # noqa: F401
from tensorflow.core.framework import tensor_slice_pb2  # noqa: F401
from google.protobuf import descriptor_pool

here = os.path.dirname(os.path.abspath(__file__))
with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "subset.pb")
    subprocess.run(["protoc", f"-I{here}/proto", f"--descriptor_set_out={out}", "tensorflow_subset.proto"], check=True)
    fds = descriptor_pb2.FileDescriptorSet.FromString(open(out, "rb").read())

pool = descriptor_pool.Default()
errors = 0
checked = 0


def check_message(msg, prefix):
    global errors, checked
    full = f"{prefix}.{msg.name}"
    try:
        tf = pool.FindMessageTypeByName(full)
    except KeyError:
        print(f"missing message {full}")
        errors += 1
        return
    for field in msg.field:
        tff = tf.fields_by_name.get(field.name)
        if tff is None:
            print(f"{full}.{field.name}: not in TensorFlow")
            errors += 1
            continue
        if tff.number != field.number or tff.type != field.type:
            print(f"{full}.{field.name}: number/type {field.number}/{field.type}, TensorFlow {tff.number}/{tff.type}")
            errors += 1
        checked += 1
    for nested in msg.nested_type:
        if not nested.options.map_entry:
            check_message(nested, full)
    for enum in msg.enum_type:
        check_enum(enum, full)


def check_enum(enum, prefix):
    global errors, checked
    full = f"{prefix}.{enum.name}"
    tf = pool.FindEnumTypeByName(full)
    for value in enum.value:
        tfv = tf.values_by_name.get(value.name)
        if tfv is None or tfv.number != value.number:
            print(f"{full}.{value.name}: {value.number}, TensorFlow {tfv.number if tfv else 'absent'}")
            errors += 1
        checked += 1


for file in fds.file:
    for msg in file.message_type:
        check_message(msg, file.package)
    for enum in file.enum_type:
        check_enum(enum, file.package)
print(f"{checked} fields and enum values checked, {errors} mismatches")
sys.exit(1 if errors else 0)
