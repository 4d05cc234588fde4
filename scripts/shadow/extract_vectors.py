#!/usr/bin/env python3
"""Extracts the 48 Device Shadow conformance vectors (shadow spec §12.2) into a JSON fixture.

Usage: python3 scripts/shadow/extract_vectors.py [--spec SPEC.md] [--output OUT.json] [--check]
  --spec    the shadow specification (default: $MOSS_SHADOW_SPEC, else /work/shared/reference/shadow-spec.md)
  --output  default: Tests/MossShadowTests/Fixtures/vectors.json
  --check   do not write; exit 1 if OUTPUT differs from what the spec gives

The output is deterministic (same spec, same bytes): pretty-printed down to the steps, each expected document
on one compact line (as in the spec), keys in the spec's order, UTF-8, one trailing newline. Placeholders are expanded into real payloads: `<x×9000>` becomes 9000 `x` characters, and
`{"k000":1, … ,"k699":1}` (or any `"kAAA":V, … ,"kBBB":V`, e.g. the metadata form with V = {"timestamp":"TS"})
becomes the 700 members.

Schema (a JSON array, one object per vector, in spec order):

  {
    "id": "V01",                       # V01 … V48
    "title": "GET of a shadow that never existed -> 404",
    "evidence": "A",                   # the vector's evidence level (A, B or C)
    "things": ["T1"],                  # thing names used literally in topics/paths; a runner substitutes a
                                       # fresh name for each (also inside expected 404 `message`s)
    "steps": [ <step>, ... ]
  }

  publish step (an MQTT publish; expectations are relative to the shadow prefix of `topic`):
  {
    "kind": "publish",
    "topic": "$aws/things/T1/shadow/update",
    "payload": "{...}" | null,          # the exact payload text; null means an empty payload ("(empty)")
    "raw": false,                      # true when `payload` is deliberately not valid JSON (V27)
    "label": null | "T1",              # V45's "[time Tn]": the time label of this step
    "expect": [ {"suffix": "update/accepted", "document": {...}}, ... ],   # every message the service must
                                       # publish in response, in any order
    "forbid": ["update/delta", ...]    # suffixes that must NOT be published
  }

  http step (a REST call; `path` is the spec's, e.g. /things/T1/shadow; Moss serves it under /v1):
  {
    "kind": "http",
    "method": "GET" | "POST" | "DELETE",
    "path": "/things/T1/shadow",
    "body": "{...}" | null,
    "raw": false,                      # true when `body` is deliberately not valid JSON
    "label": null,
    "status": 200,
    "response": {...}
  }

In expected documents, a `timestamp` value "TS" matches any timestamp; "T1".."T4" (V45 only) are labels that
bind to one observed value each, with T1 < T2 < T3 < T4; error `message`s match by prefix (spec §12.1).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
DEFAULT_SPEC = os.environ.get("MOSS_SHADOW_SPEC", "/work/shared/reference/shadow-spec.md")
DEFAULT_OUTPUT = REPOSITORY / "Tests" / "MossShadowTests" / "Fixtures" / "vectors.json"
VECTOR_COUNT = 48

HEADING = re.compile(r"^#### (V\d\d) — (.+)$")
EVIDENCE = re.compile(r"^Evidence: \*\*([ABC])\*\*")
PUBLISH = re.compile(r"^\d+\. PUBLISH (\S+) (.*)$")
HTTP = re.compile(r"^\d+\. HTTP (GET|POST|PUT|DELETE|PATCH) (\S+)(?: (.*))?$")
EXPECT = re.compile(r"^-> ([a-z]+/[a-z]+): (.*)$")
RESPONSE = re.compile(r"^<- (\d{3}) (.*)$")
LABEL = re.compile(r"\s+\[time (T\d+)\]$")
RAW = re.compile(r"\s+\(raw bytes, not valid JSON\)$")
REPEAT = re.compile(r"<([a-z])×(\d+)>")
# `"k000":V, … ,"k699":V`: the same value V for every key in the range (V may contain braces).
KEY_RANGE = re.compile(r'"k(\d+)":(.+?), … ,"k(\d+)":\2')
THING_IN_TOPIC = re.compile(r"^\$aws/things/([^/]+)/shadow")
THING_IN_PATH = re.compile(r"^/(?:things|api/things/shadow/ListNamedShadowsForThing)/([^/?]+)")


def expand(text: str) -> str:
    """Replaces the spec's shorthands with the text they stand for."""
    text = REPEAT.sub(lambda m: m.group(1) * int(m.group(2)), text)

    def key_range(m: re.Match) -> str:
        first, value, last = m.group(1), m.group(2), m.group(3)
        width = len(first)
        return ",".join(f'"k{i:0{width}d}":{value}' for i in range(int(first), int(last) + 1))

    return KEY_RANGE.sub(key_range, text)


def parse_document(text: str, where: str) -> dict:
    try:
        document = json.loads(expand(text))
    except json.JSONDecodeError as error:
        raise SystemExit(f"{where}: expected document does not parse: {error}: {text[:120]}")
    if not isinstance(document, dict):
        raise SystemExit(f"{where}: expected document is not an object")
    return document


def split_payload(text: str) -> tuple[str | None, bool, str | None]:
    """(payload, raw, label) of the text after a PUBLISH topic or HTTP path."""
    text = (text or "").strip()
    label = None
    if m := LABEL.search(text):
        label = m.group(1)
        text = text[: m.start()].strip()
    raw = False
    if m := RAW.search(text):
        raw = True
        text = text[: m.start()]
    if text in ("", "(empty)"):
        return None, raw, label
    return expand(text), raw, label


def vector_blocks(spec: str):
    """Yields (id, title, lines of the section) for every vector heading of §12.2."""
    lines = spec.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("### 12.2"))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("## ") or lines[i].startswith("### "))
    current = None
    for line in lines[start:end]:
        if m := HEADING.match(line):
            if current:
                yield current
            current = (m.group(1), m.group(2).strip(), [])
        elif current:
            current[2].append(line)
    if current:
        yield current


def parse_vector(vector_id: str, title: str, lines: list[str]) -> dict:
    evidence = None
    steps: list[dict] = []
    in_code = False
    for number, line in enumerate(lines):
        where = f"{vector_id} line {number}"
        if line.startswith("```"):
            in_code = not in_code
            continue
        if not in_code:
            if m := EVIDENCE.match(line):
                evidence = m.group(1)
            continue
        stripped = line.strip()
        if not stripped:
            continue
        if m := PUBLISH.match(stripped):
            payload, raw, label = split_payload(m.group(2))
            if payload is not None and not raw:
                json.loads(payload)  # a non-raw payload must be JSON; fail loudly otherwise
            steps.append(
                {"kind": "publish", "topic": m.group(1), "payload": payload, "raw": raw, "label": label, "expect": [], "forbid": []}
            )
        elif m := HTTP.match(stripped):
            body, raw, label = split_payload(m.group(3))
            if body is not None and not raw:
                json.loads(body)
            steps.append(
                {"kind": "http", "method": m.group(1), "path": m.group(2), "body": body, "raw": raw, "label": label, "status": None, "response": None}
            )
        elif m := EXPECT.match(stripped):
            step = steps[-1]
            assert step["kind"] == "publish", f"{where}: '->' after a non-publish step"
            suffix, rest = m.group(1), m.group(2).strip()
            if rest == "(must NOT be published)":
                step["forbid"].append(suffix)
            else:
                step["expect"].append({"suffix": suffix, "document": parse_document(rest, where)})
        elif m := RESPONSE.match(stripped):
            step = steps[-1]
            assert step["kind"] == "http", f"{where}: '<-' after a non-http step"
            step["status"] = int(m.group(1))
            step["response"] = parse_document(m.group(2), where)
        else:
            raise SystemExit(f"{where}: unrecognised line: {stripped[:120]}")
    if evidence is None:
        raise SystemExit(f"{vector_id}: no evidence line")
    for index, step in enumerate(steps, 1):
        if step["kind"] == "publish" and not step["expect"]:
            raise SystemExit(f"{vector_id} step {index}: no expected publication")
        if step["kind"] == "http" and step["status"] is None:
            raise SystemExit(f"{vector_id} step {index}: no response")
    things: list[str] = []
    for step in steps:
        m = THING_IN_TOPIC.match(step["topic"]) if step["kind"] == "publish" else THING_IN_PATH.match(step["path"])
        if not m:
            raise SystemExit(f"{vector_id}: no thing name in {step.get('topic') or step.get('path')}")
        if m.group(1) not in things:
            things.append(m.group(1))
    return {"id": vector_id, "title": title, "evidence": evidence, "things": things, "steps": steps}


def extract(spec_text: str) -> list[dict]:
    vectors = [parse_vector(*block) for block in vector_blocks(spec_text)]
    ids = [vector["id"] for vector in vectors]
    expected_ids = [f"V{i:02d}" for i in range(1, VECTOR_COUNT + 1)]
    if ids != expected_ids:
        raise SystemExit(f"expected vectors {expected_ids[0]}..{expected_ids[-1]} in order, found {ids}")
    return vectors


def render(vectors: list[dict]) -> str:
    """Pretty-printed down to the steps; each expected document stays on one compact line, as in the spec."""
    compact: list[str] = []

    def stash(document: dict) -> str:
        compact.append(json.dumps(document, ensure_ascii=False, separators=(",", ":")))
        return f"\0{len(compact) - 1}\0"

    skeleton = []
    for vector in vectors:
        steps = []
        for step in vector["steps"]:
            step = dict(step)
            if step["kind"] == "publish":
                step["expect"] = [{"suffix": e["suffix"], "document": stash(e["document"])} for e in step["expect"]]
            else:
                step["response"] = stash(step["response"])
            steps.append(step)
        skeleton.append({**vector, "steps": steps})
    text = json.dumps(skeleton, indent=2, ensure_ascii=False)
    return re.sub(r'"\\u0000(\d+)\\u0000"', lambda m: compact[int(m.group(1))], text) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default=DEFAULT_SPEC)
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT))
    parser.add_argument("--check", action="store_true")
    arguments = parser.parse_args()
    text = render(extract(Path(arguments.spec).read_text(encoding="utf-8")))
    output = Path(arguments.output)
    if arguments.check:
        if not output.exists() or output.read_text(encoding="utf-8") != text:
            print(f"{output} is not what {arguments.spec} gives; rerun without --check", file=sys.stderr)
            return 1
        print(f"{output} is up to date")
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(f"wrote {VECTOR_COUNT} vectors to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
