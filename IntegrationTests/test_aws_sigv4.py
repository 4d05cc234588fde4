"""The SigV4 fixture MossAWS is tested against is still what botocore produces.

Tests/MossAWSTests/Fixtures/sigv4.json is committed so the Swift tests need no Python; this re-runs
scripts/aws/sigv4_vectors.py and compares, so a botocore change in signing (or a hand edit of the fixture)
is caught here rather than trusted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("botocore", reason="botocore is not installed (pip install botocore); scripts/test.sh installs it")

REPOSITORY = Path(__file__).resolve().parent.parent
SCRIPT = REPOSITORY / "scripts/aws/sigv4_vectors.py"
FIXTURE = REPOSITORY / "Tests/MossAWSTests/Fixtures/sigv4.json"


def without_version(text: str) -> dict:
    document = json.loads(text)
    document.pop("botocore")  # which botocore wrote it is informative; the signatures are what must match
    return document


def test_the_committed_fixture_is_what_botocore_produces():
    produced = subprocess.run(
        [sys.executable, str(SCRIPT), "--stdout"], check=True, capture_output=True, text=True
    ).stdout
    assert without_version(produced) == without_version(FIXTURE.read_text(encoding="utf-8")), (
        "botocore signs differently from Tests/MossAWSTests/Fixtures/sigv4.json: "
        "run scripts/aws/sigv4_vectors.py, then make the Swift signer match"
    )


def test_the_fixture_is_deterministic():
    runs = [
        subprocess.run([sys.executable, str(SCRIPT), "--stdout"], check=True, capture_output=True, text=True).stdout
        for _ in range(2)
    ]
    assert runs[0] == runs[1]
