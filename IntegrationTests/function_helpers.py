"""Function code laid out as on a V1 gateway: each function's directory holds its module and the greengrasssdk
package it ships (V1 functions carried the SDK in their zip), everything readable by the unprivileged user Moss
runs functions as when it is root, and the interpreter is the system's Python, which that user can run (the pyenv
Python running these tests lives under /root, which nobody can enter).
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import greengrasssdk

FUNCTION_PYTHON = "/usr/bin/python3"
SDK = Path(greengrasssdk.__file__).resolve().parent


def functions_config(extra: str = "") -> str:
    """The `functions:` section of a core configuration: the system Python, plus `extra` lines (indented)."""
    return f"functions:\n  python: {FUNCTION_PYTHON}\n{extra}"


def write_function(workspace: Path, name: str, source: str, sdk: bool = True) -> Path:
    """Writes `name.py` with `source` into `workspace/name`, with a copy of greengrasssdk beside it."""
    code = workspace / name
    code.mkdir()
    (code / f"{name}.py").write_text(source)
    if sdk:
        shutil.copytree(SDK, code / "greengrasssdk", ignore=shutil.ignore_patterns("__pycache__"))
    make_readable(code)
    return code


def make_readable(path: Path) -> None:
    """a+rX on `path` and everything under it."""
    for root, directories, files in os.walk(path):
        for name in directories + [""]:
            target = Path(root) / name
            target.chmod(target.stat().st_mode | stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH | 0o111)
        for name in files:
            target = Path(root) / name
            target.chmod(target.stat().st_mode | stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
