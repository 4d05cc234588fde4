"""The tutorial's republishing function, exactly as the seed (../shared/seeds) prints it: read at test time, never
copied into the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SEED = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds" / "001_8fa8090d5f9ce920.txt"


def seed_republisher() -> str:
    if not SEED.exists():
        pytest.skip(f"{SEED} is not there (the tutorial seed lives beside the repository)")
    blocks = re.findall(r"```python\n(.*?)```", SEED.read_text(), flags=re.S)
    matching = [b for b in blocks if "def get_cpu_temperature" in b and "def function_handler" in b]
    assert len(matching) == 1, "the seed should print the republishing function once"
    return matching[0]
