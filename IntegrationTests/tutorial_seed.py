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


def lay_out_republisher(workspace: Path, write_function, make_readable) -> Path:
    """The seed's republisher under its tutorial file name in workspace/repub (with greengrasssdk beside it), and a
    stand-in thermal zone (these VMs have none; the function reads 45 °C from it). Returns the thermal directory."""
    write_function(workspace, "repub", "")
    (workspace / "repub" / "repub.py").unlink()
    (workspace / "repub" / "greengrass_repub_lambda.py").write_text(seed_republisher())
    thermal = workspace / "thermal"
    (thermal / "thermal_zone0").mkdir(parents=True)
    (thermal / "thermal_zone0" / "temp").write_text("45000\n")
    make_readable(workspace)
    return thermal


def republisher_group(thermal: Path, sync_shadow: bool = False, to_cloud: bool = False) -> str:
    """The tutorial's first part as a group: the sensor, the republisher in a container with accessSysfs and the
    thermal zone mounted at /sys/class/thermal, the readings routed to it (and to the cloud when asked)."""
    return f"""\
core:
  thingName: rain-gateway
devices:
  - thingName: bme680-sensor
    syncShadow: {str(sync_shadow).lower()}
functions:
  - id: repub
    name: repub
    runtime: python3.11
    handler: greengrass_repub_lambda.function_handler
    code: repub
    timeout: 30
    accessSysfs: true
    isolationMode: GreengrassContainer
    environment:
      variables:
        THING_NAME: bme680-sensor
    resourceAccessPolicies:
      - resourceId: thermal
        permission: ro
resources:
  - id: thermal
    name: thermal
    localVolume:
      sourcePath: {thermal}
      destinationPath: /sys/class/thermal
subscriptions:
  - id: readings
    source: device:bme680-sensor
    subject: bme680/readings
    target: function:repub
""" + ("""\
  - id: readings-to-cloud
    source: device:bme680-sensor
    subject: bme680/readings
    target: cloud
""" if to_cloud else "")
