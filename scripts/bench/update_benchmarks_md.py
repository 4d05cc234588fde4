#!/usr/bin/env python3
"""Replaces one section of docs/benchmarks.md (between <!-- NAME:begin --> and <!-- NAME:end -->) with a file.

Each benchmark owns its section, so scripts for different components never overwrite each other's results.
usage: update_benchmarks_md.py docs/benchmarks.md NAME body.md
"""
import datetime, os, sys

path, name, body_path = sys.argv[1:4]
body = open(body_path).read().rstrip() + "\n"
begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
stamp = f"_Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC._\n\n"
block = f"{begin}\n{stamp}{body}{end}"
if begin in text and end in text:
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    text = head + block + tail
else:
    text = text.rstrip() + "\n\n" + block + "\n"
open(path, "w").write(text)
