#!/usr/bin/env python3
"""Turns the JSON lines of scripts/bench/inference.sh into the Markdown tables of docs/benchmarks.md."""
import json
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip().startswith("{")]
machine = next((r for r in rows if "machine" in r), {})
print(f"Machine: {machine.get('machine', '?')}; load average at the start: {machine.get('load', '?')}.\n")

pipeline = {r["engine"]: r for r in rows if r.get("benchmark") == "pipeline"}
moss = pipeline.get("moss", {})
tf = pipeline.get("tensorflow-python", {})
print("| tutorial pipeline, batch 1 | p50 per prediction | best | vs TensorFlow |")
print("|---|---|---|---|")
if moss:
    for label, key, best in [("Moss, prepared buffers (allocation-free)", "prepared_us_p50", "prepared_us_min"),
                             ("Moss, tensor API (dictionaries in and out)", "tensor_api_us_p50", None)]:
        ratio = f"{tf['us_p50'] / moss[key]:.0f}× faster" if tf else "—"
        best_text = f"{moss[best]:.3f} µs" if best else "—"
        print(f"| {label} | {moss[key]:.3f} µs | {best_text} | {ratio} |")
for engine, label in [("onnxruntime-python", "ONNX Runtime in Python (tf2onnx exports, 1 thread)"),
                      ("tensorflow-python", "TensorFlow in Python (the Lambda's calls)")]:
    r = pipeline.get(engine)
    if r:
        ratio = f"{tf['us_p50'] / r['us_p50']:.1f}× faster" if tf and r is not tf else "1×"
        print(f"| {label} {r['version']} | {r['us_p50']:.2f} µs | {r['us_min']:.2f} µs | {ratio} |")

print("\n| MobileNetV2 224×224, batch 1, 1 thread | p50 | best | CPU time p50 | CPU time best | load |")
print("|---|---|---|---|---|---|")
ort = next((r for r in rows if r.get("benchmark") == "model" and r["engine"] == "onnxruntime-python"), None)
for r in rows:
    if r.get("benchmark") != "model":
        continue
    if r["engine"] == "moss":
        kind = "ONNX (NCHW)" if r["path"].endswith(".onnx") else "SavedModel (NHWC)"
        label = f"Moss, {kind}, BLAS {r['blas']}"
    else:
        label = f"ONNX Runtime {r['version']} (Python)"
    def versus(key):
        return f" ({r[key] / ort[key]:.2f}× ORT)" if ort and r is not ort and key in ort and key in r else ""
    cpu = (f"{r['cpu_ms_p50']:.2f} ms{versus('cpu_ms_p50')} | {r['cpu_ms_min']:.2f} ms{versus('cpu_ms_min')}"
           if "cpu_ms_p50" in r else "— | —")
    print(f"| {label} | {r['ms_p50']:.2f} ms{versus('ms_p50')} | {r['ms_min']:.2f} ms{versus('ms_min')} | {cpu} | "
          f"{r['load_ms']:.0f} ms |")

for r in rows:
    if r.get("benchmark") == "sgemm":
        print(f"\n| SGEMM {r['n']}², 1 thread | GFLOP/s |\n|---|---|")
        print(f"| Moss portable kernel (no OpenBLAS) | {r['moss_portable_gflops']:.1f} |")
        if "openblas_gflops" in r:
            print(f"| Moss engine path (OpenBLAS via dlopen) | {r['moss_engine_gflops']:.1f} |")
            print(f"| OpenBLAS cblas_sgemm directly ({r['openblas']}) | {r['openblas_gflops']:.1f} |")
