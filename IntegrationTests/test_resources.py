"""Machine learning resources (issue 6) on the real daemon against moto_server on loopback as S3 and SageMaker.

moto is started by each test on a free 127.0.0.1 port with its request log in a file, so "unchanged: no new
download" is counted from the requests S3 actually received. The tutorial's two SavedModels (../shared/seed-models)
are uploaded as they are and deployed as resources of a container function and of a NoContainer function, whose
own Python code reports what it sees at /ggml/tensorflow/...; a function without the resources sees nothing there.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import random
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from pathlib import Path

import pytest

from broker_helpers import Clients
from function_helpers import functions_config, write_function
from conftest import REPOSITORY, start_moss
from moto_helpers import Moto, use_test_credentials, zipped

boto3 = pytest.importorskip("boto3", reason="pip install 'moto[server]' (scripts/test.sh does)")
pytest.importorskip("greengrasssdk", reason="pip install greengrasssdk==1.6.1 (scripts/test.sh does)")

SEED_MODELS = REPOSITORY.parent / "shared" / "seed-models"


@pytest.fixture
def moto(tmp_path):
    server = Moto(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def aws_environment(monkeypatch, tmp_path):
    use_test_credentials(monkeypatch, tmp_path)


def core_config(tmp_path: Path, moto: Moto, extra: str = "") -> Path:
    path = tmp_path / "moss.yaml"
    path.write_text(
        functions_config() +
        f"resources:\n  s3Endpoint: {moto.url}\n  sageMakerEndpoint: {moto.url}\n{extra}"
    )
    return path


def start(moss_binary, tmp_path: Path, moto: Moto, extra: str = "", name: str = "data"):
    return start_moss(moss_binary, tmp_path / name, "--config", str(core_config(tmp_path, moto, extra)))


def model_group(resources: list[tuple[str, str]], *, sha256: str | None = None, functions: str = "") -> str:
    """A group with a model resource per (id, source) at /ggml/<id>."""
    lines = ["core:\n  thingName: gateway\n", functions, "resources:\n"]
    for resource_id, source in resources:
        lines.append(
            f"  - id: {resource_id}\n    name: {resource_id}\n    machineLearningModel:\n"
            f"      source: {source}\n      destinationPath: /ggml/{resource_id}\n"
        )
        if sha256:
            lines.append(f"      sha256: {sha256}\n")
    return "".join(lines)


def deploy(moss, tmp_path: Path, text: str):
    (tmp_path / "group.yaml").write_text(text)
    return moss.moss("deploy", str(tmp_path / "group.yaml"))


def installed(moss) -> dict:
    result = moss.moss("resources", "--json", check=True)
    return {entry["resourceId"]: entry for entry in json.loads(result.stdout)}


def current(moss, resource_id: str) -> Path:
    return moss.data_dir / "resources" / resource_id / "current"


def versions(moss, resource_id: str) -> list[str]:
    directory = moss.data_dir / "resources" / resource_id / "versions"
    return sorted(p.name for p in directory.iterdir() if p.is_dir()) if directory.exists() else []


def test_a_changed_object_is_a_new_version_and_an_unchanged_one_is_not_downloaded_again(
    moss_binary, tmp_path, moto, aws_environment
):
    s3 = moto.client("s3")
    s3.create_bucket(Bucket="moss-greengrass-models")
    package = zipped({"model.txt": b"version one"})
    s3.put_object(Bucket="moss-greengrass-models", Key="model.zip", Body=package)
    moss = start(moss_binary, tmp_path, moto)
    try:
        group = model_group([("model", "s3://moss-greengrass-models/model.zip")])
        result = deploy(moss, tmp_path, group)
        assert result.returncode == 0, result.stderr
        assert (current(moss, "model") / "model.txt").read_text() == "version one"
        first = installed(moss)["model"]
        assert moto.gets("moss-greengrass-models", "model.zip", 200) == 1
        assert first["sha256"] == hashlib.sha256(package).hexdigest()
        assert first["packageBytes"] == len(package) and first["unpackedBytes"] == len(b"version one")

        # Unchanged: S3 is asked with the ETag, answers 304, nothing is downloaded or switched.
        result = deploy(moss, tmp_path, group)
        assert result.returncode == 0, result.stderr
        assert moto.gets("moss-greengrass-models", "model.zip", 200) == 1
        assert moto.gets("moss-greengrass-models", "model.zip", 304) == 1
        again = installed(moss)["model"]
        assert again["version"] == first["version"]
        assert again["lastChecked"] >= first["lastChecked"]

        # Changed: a new version is switched in and the old one removed.
        s3.put_object(Bucket="moss-greengrass-models", Key="model.zip", Body=zipped({"model.txt": b"version two"}))
        result = deploy(moss, tmp_path, group)
        assert result.returncode == 0, result.stderr
        assert moto.gets("moss-greengrass-models", "model.zip", 200) == 2
        second = installed(moss)["model"]
        assert second["version"] != first["version"]
        assert (current(moss, "model") / "model.txt").read_text() == "version two"
        assert versions(moss, "model") == [second["version"]]
        listing = moss.moss("resources", check=True).stdout
        assert "model" in listing and second["version"] in listing and "s3://moss-greengrass-models/model.zip" in listing
    finally:
        assert moss.stop() == 0, moss.log()


def test_a_bucket_outside_the_policy_is_refused_before_any_request_until_a_statement_allows_it(
    moss_binary, tmp_path, moto, aws_environment
):
    s3 = moto.client("s3")
    s3.create_bucket(Bucket="plain-models")
    s3.put_object(Bucket="plain-models", Key="model.zip", Body=zipped({"model.txt": b"plain"}))
    before = moto.requests_for("plain-models")
    group = model_group([("model", "s3://plain-models/model.zip")])
    moss = start(moss_binary, tmp_path, moto)
    try:
        result = deploy(moss, tmp_path, group)
        assert result.returncode != 0
        assert "ResourceAccessNotAllowed" in result.stderr or "AWSGreengrassResourceAccessRolePolicy" in result.stderr
        assert "rename the bucket" in result.stderr and "arn:aws:s3:::plain-models/*" in result.stderr
        assert moto.requests_for("plain-models") == before
        assert not current(moss, "model").exists()
    finally:
        assert moss.stop() == 0, moss.log()

    statement = (
        "  policy:\n    statements:\n      - sid: PlainModels\n        effect: Allow\n"
        "        action: s3:GetObject\n        resource: arn:aws:s3:::plain-*/*\n"
    )
    moss = start(moss_binary, tmp_path, moto, extra=statement)
    try:
        result = deploy(moss, tmp_path, group)
        assert result.returncode == 0, result.stderr
        assert (current(moss, "model") / "model.txt").read_text() == "plain"
    finally:
        assert moss.stop() == 0, moss.log()


def test_a_sagemaker_training_job_is_resolved_to_its_model_artifact(moss_binary, tmp_path, moto, aws_environment):
    s3 = moto.client("s3")
    s3.create_bucket(Bucket="sagemaker-models-out")
    sagemaker = moto.client("sagemaker")
    job = sagemaker.create_training_job(
        TrainingJobName="rain-predictor",
        AlgorithmSpecification={"TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/rain:1", "TrainingInputMode": "File"},
        RoleArn="arn:aws:iam::123456789012:role/sagemaker",
        OutputDataConfig={"S3OutputPath": "s3://sagemaker-models-out/output"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )
    artifact = sagemaker.describe_training_job(TrainingJobName="rain-predictor")["ModelArtifacts"]["S3ModelArtifacts"]
    bucket, key = artifact[len("s3://"):].split("/", 1)
    # A SageMaker model.tar.gz, with a parent directory as V1 required, and a path too long for a ustar header
    # (Python writes it as a pax record).
    long_path = "assets/" + "/".join(["a-rather-long-directory-name"] * 5) + "/vocabulary.txt"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        for name, content in [("model/saved_model.pb", b"trained"), (f"model/{long_path}", b"words")]:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())
    moss = start(moss_binary, tmp_path, moto)
    try:
        result = deploy(moss, tmp_path, model_group([("rain", job["TrainingJobArn"])]))
        assert result.returncode == 0, result.stderr
        assert (current(moss, "rain") / "saved_model.pb").read_bytes() == b"trained"
        assert (current(moss, "rain") / long_path).read_bytes() == b"words"
        assert installed(moss)["rain"]["validator"]["origin"] == artifact
    finally:
        assert moss.stop() == 0, moss.log()


def symlink_zip(name: str, target: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo(name)
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, target)
    return buffer.getvalue()


BAD_PACKAGES = [
    ("zip slip", "model.zip", zipped({"../../evil.txt": b"x"}), None, "ResourceArchiveUnsafe"),
    ("symlink escape", "model.zip", symlink_zip("escape", "../../../etc"), None, "ResourceArchiveUnsafe"),
    ("zip bomb", "model.zip", zipped({"zeros": bytes(8 << 20)}), None, "ResourceArchiveTooLarge"),
    ("corrupt archive", "model.zip", b"PK\x03\x04 this is not really a zip", None, "ResourceArchiveCorrupt"),
    ("sha256 mismatch", "model.zip", zipped({"model.txt": b"other"}), "0" * 64, "ResourceChecksumMismatch"),
    ("missing object", "missing.zip", None, None, "ResourceSourceNotFound"),
]


def test_each_bad_package_is_refused_with_its_own_error_and_the_previous_version_stays(
    moss_binary, tmp_path, moto, aws_environment
):
    s3 = moto.client("s3")
    s3.create_bucket(Bucket="greengrass-bad")
    s3.put_object(Bucket="greengrass-bad", Key="model.zip", Body=zipped({"model.txt": b"good"}))
    # 1 MiB: the bomb's 8 MiB of zeros compress to a few KiB.
    moss = start(moss_binary, tmp_path, moto, extra="  maximumUnpackedBytes: 1048576\n")
    try:
        result = deploy(moss, tmp_path, model_group([("model", "s3://greengrass-bad/model.zip")]))
        assert result.returncode == 0, result.stderr
        good = installed(moss)["model"]["version"]
        for name, key, body, pin, code in BAD_PACKAGES:
            if body is not None:
                s3.put_object(Bucket="greengrass-bad", Key=key, Body=body)
            result = deploy(moss, tmp_path, model_group([("model", f"s3://greengrass-bad/{key}")], sha256=pin))
            assert result.returncode != 0, f"{name} was deployed"
            assert "failed; nothing changed" in result.stderr, name
            history = json.loads(moss.moss("deployments", "--json", check=True).stdout)
            assert history[-1]["errorDetails"][0]["detailedErrorCode"] == code, (name, history[-1])
            # Nothing half-installed: the good version is in effect and alone.
            assert (current(moss, "model") / "model.txt").read_text() == "good", name
            assert versions(moss, "model") == [good], name
            assert not (moss.data_dir / "resources" / "evil.txt").exists()
            assert not list((moss.data_dir / "resources" / "model" / "staging").glob("*")), name
    finally:
        assert moss.stop() == 0, moss.log()


def test_wrong_credentials_are_refused_with_the_credentials_named(moss_binary, tmp_path, monkeypatch, aws_environment):
    # IAM authentication on after three requests: create a user, give it every permission, issue its key.
    moto = Moto(tmp_path, {"INITIAL_NO_AUTH_ACTION_COUNT": "3"})
    try:
        iam = moto.client("iam")
        iam.create_user(UserName="gateway")
        iam.put_user_policy(
            UserName="gateway",
            PolicyName="all",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
        )
        key = iam.create_access_key(UserName="gateway")["AccessKey"]
        s3 = moto.client("s3", key["AccessKeyId"], key["SecretAccessKey"])
        s3.create_bucket(Bucket="greengrass-auth")
        s3.put_object(Bucket="greengrass-auth", Key="model.zip", Body=zipped({"model.txt": b"secret"}))
        group = model_group([("model", "s3://greengrass-auth/model.zip")])

        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
        moss = start(moss_binary, tmp_path, moto, name="wrong")
        try:
            result = deploy(moss, tmp_path, group)
            assert result.returncode != 0
            assert "SignatureDoesNotMatch" in result.stderr and "credentials" in result.stderr
            assert not current(moss, "model").exists()
        finally:
            assert moss.stop() == 0, moss.log()

        # The same deployment with the right secret works: it was the credentials.
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
        moss = start(moss_binary, tmp_path, moto, name="right")
        try:
            result = deploy(moss, tmp_path, group)
            assert result.returncode == 0, result.stderr
            assert (current(moss, "model") / "model.txt").read_text() == "secret"
        finally:
            assert moss.stop() == 0, moss.log()
    finally:
        moto.stop()


# A function that reports what it sees at its models' destination paths (under AWS_GG_RESOURCE_PREFIX, which is
# "/" in a container) and what a library from a resource says.
LOOKER = '''\
import json
import os
import greengrasssdk

iot = greengrasssdk.client("iot-data")

def listing(path):
    found = {}
    for root, _, files in os.walk(path, followlinks=True):
        for name in files:
            full = os.path.join(root, name)
            found[os.path.relpath(full, path)] = os.path.getsize(full)
    return found

def handler(event, context):
    prefix = os.environ.get("AWS_GG_RESOURCE_PREFIX", "/")
    seen = {name: listing(prefix.rstrip("/") + "/ggml/tensorflow/" + name) for name in ("standardiser", "rain_predictor")}
    try:
        import mosslib
        library = mosslib.ANSWER
    except ImportError as error:
        library = str(error)
    iot.publish(topic="seen/" + context.function_name, payload=json.dumps({"seen": seen, "library": library}))
'''


# Laid out as an unpacked wheel: two top-level entries, so the archive's root is the resource (a lone top-level
# directory would be taken as a parent directory and become the resource itself).
LIBRARY = {"mosslib/__init__.py": b"ANSWER = 42\n", "mosslib-1.0.dist-info/METADATA": b"Name: mosslib\nVersion: 1.0\n"}


def looker_function(name: str, mode: str, resources: list[str], pythonpath: str | None = None) -> str:
    text = (
        f"  - id: {name}\n    name: {name}\n    runtime: python3.11\n    handler: looker.handler\n    code: looker\n"
        f"    timeout: 30\n    isolationMode: {mode}\n"
    )
    if pythonpath:
        text += f"    environment:\n      variables:\n        PYTHONPATH: {pythonpath}\n"
    if resources:
        text += "    resourceAccessPolicies:\n" + "".join(f"      - resourceId: {r}\n        permission: ro\n" for r in resources)
    return text


@pytest.mark.skipif(not SEED_MODELS.exists(), reason="../shared/seed-models is not there")
def test_the_tutorials_models_are_visible_to_their_functions_only(moss_binary, workspace, moto, aws_environment):
    s3 = moto.client("s3")
    s3.create_bucket(Bucket="rain-greengrass-models")
    for model in ("standardiser", "rain_predictor"):
        s3.put_object(Bucket="rain-greengrass-models", Key=f"{model}.zip", Body=(SEED_MODELS / f"{model}.zip").read_bytes())
    s3.put_object(Bucket="rain-greengrass-models", Key="mosslib.zip", Body=zipped(LIBRARY))
    write_function(workspace, "looker", LOOKER)
    contained = os.geteuid() == 0
    models = ["standardiser", "rain_predictor"]
    functions = [
        ("nocontainer", "NoContainer", models, None),
        ("bystander", "NoContainer", [], None),
    ]
    if contained:
        # The library resource is imported through the function's PYTHONPATH, nothing installed on the gateway.
        functions.append(("container", "GreengrassContainer", models + ["mosslib"], "/ggml/lib"))
    # A group of the models' own: the functions' user gets it as a supplementary group (V1 1.10), nothing else can.
    gid = 4242
    resources = "".join(
        f"  - id: {name}\n    name: {name}\n    machineLearningModel:\n"
        f"      source: s3://rain-greengrass-models/{name}.zip\n      destinationPath: {path}\n"
        f"      ownerSetting:\n        groupOwner: \"{gid}\"\n        groupPermission: ro\n"
        for name, path in [
            ("standardiser", "/ggml/tensorflow/standardiser"),
            ("rain_predictor", "/ggml/tensorflow/rain_predictor"),
            ("mosslib", "/ggml/lib"),
        ]
    )
    subscriptions = "".join(
        f"  - id: in-{name}\n    source: device:sensor\n    subject: look/{name}\n    target: function:{name}\n"
        f"  - id: out-{name}\n    source: function:{name}\n    subject: seen/{name}\n    target: device:sensor\n"
        for name, *_ in functions
    )
    group = (
        "core:\n  thingName: gateway\ndevices:\n  - thingName: sensor\nfunctions:\n"
        + "".join(looker_function(*f) for f in functions)
        + "resources:\n" + resources + "subscriptions:\n" + subscriptions
    )
    moss = start(moss_binary, workspace, moto)
    clients = Clients(moss.mqtt_port)
    try:
        result = deploy(moss, workspace, group)
        assert result.returncode == 0, result.stderr
        sensor = clients.connected(5, client_id="sensor")
        sensor.subscribe(("seen/#", 1))
        expected = {
            model: {info.filename: info.file_size for info in zipfile.ZipFile(SEED_MODELS / f"{model}.zip").infolist()}
            for model in models
        }
        for name, _, attached, _ in functions:
            assert sensor.publish(f"look/{name}", b"{}", qos=1).code == 0
            report = json.loads(sensor.expect_publish(topic=f"seen/{name}", timeout=60).payload)
            if attached:
                assert report["seen"] == expected, name
            else:
                assert report["seen"] == {"standardiser": {}, "rain_predictor": {}}, name
            if name == "container":
                assert report["library"] == 42
        listing = installed(moss)
        assert set(listing) == {"standardiser", "rain_predictor", "mosslib"}
        for model in models:
            assert listing[model]["sha256"] == hashlib.sha256((SEED_MODELS / f"{model}.zip").read_bytes()).hexdigest()
    finally:
        clients.close_all()
        assert moss.stop() == 0, moss.log()


def test_a_restart_restores_the_installed_models_without_reaching_s3(moss_binary, tmp_path, aws_environment):
    moto = Moto(tmp_path)
    try:
        s3 = moto.client("s3")
        s3.create_bucket(Bucket="greengrass-restart")
        s3.put_object(Bucket="greengrass-restart", Key="model.zip", Body=zipped({"model.txt": b"kept"}))
        moss = start(moss_binary, tmp_path, moto)
        try:
            result = deploy(moss, tmp_path, model_group([("model", "s3://greengrass-restart/model.zip")]))
            assert result.returncode == 0, result.stderr
            version = installed(moss)["model"]["version"]
        finally:
            assert moss.stop() == 0, moss.log()
    finally:
        moto.stop()
    # S3 is gone (the gateway booted offline): the recorded group comes back with the model it had.
    moss = start_moss(moss_binary, tmp_path / "data", "--config", str(tmp_path / "moss.yaml"))
    try:
        assert installed(moss)["model"]["version"] == version
        assert (current(moss, "model") / "model.txt").read_text() == "kept"
        assert versions(moss, "model") == [version]
    finally:
        assert moss.stop() == 0, moss.log()
    # Without the model on disk either, the gateway still starts (its functions run without it) and says why.
    shutil.rmtree(tmp_path / "data" / "resources")
    moss = start_moss(moss_binary, tmp_path / "data", "--config", str(tmp_path / "moss.yaml"))
    try:
        assert installed(moss) == {}
        assert "Resource not installed; its functions start without it" in moss.log()
        assert "resource.id=model" in moss.log()
    finally:
        assert moss.stop() == 0, moss.log()


class SlowS3(http.server.BaseHTTPRequestHandler):
    """An S3 stand-in that serves one object slowly (2 MiB in 20 paced chunks), so a deployment's download lasts
    long enough for `moss deploy` to show it."""

    body = zipped({"weights.bin": random.Random(6).randbytes(2 << 20)})

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.send_header("ETag", '"slow"')
        self.end_headers()
        step = len(self.body) // 20 + 1
        for offset in range(0, len(self.body), step):
            self.wfile.write(self.body[offset : offset + step])
            self.wfile.flush()
            time.sleep(0.1)  # the pace of a slow link, not a wait for a condition

    def log_message(self, *arguments):
        pass


def test_moss_deploy_shows_the_download_a_line_without_a_terminal_and_a_bar_on_one(moss_binary, tmp_path, aws_environment):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowS3)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    path = tmp_path / "moss.yaml"
    path.write_text(f"resources:\n  s3Endpoint: http://127.0.0.1:{server.server_address[1]}\n")
    moss = start_moss(moss_binary, tmp_path / "data", "--config", str(path))
    try:
        group = tmp_path / "group.yaml"
        group.write_text(model_group([("model", "s3://greengrass-slow/model.zip")]))
        result = moss.moss("deploy", str(group))
        assert result.returncode == 0, result.stderr
        assert "Downloading model from s3://greengrass-slow/model.zip (2.0 MiB)" in result.stderr, result.stderr
        assert "Downloaded model: 2.0 MiB" in result.stderr, result.stderr
        assert result.stdout.startswith("Deployed: deployment")

        # On a terminal: a bar with the percentage, size, rate and ETA, redrawn in place.
        command = f"{moss_binary} deploy {group} --data-dir {moss.data_dir}"
        shown = subprocess.run(["script", "-qec", command, "/dev/null"], capture_output=True, text=True, timeout=60)
        assert shown.returncode == 0, shown.stdout
        bars = re.findall(r"model  \[[#-]{24}\]  (\d+)%  [\d.]+ (?:KiB|MiB|B) of 2\.0 MiB  [\d.]+ (?:KiB|MiB|B)/s  ETA", shown.stdout)
        assert bars, shown.stdout
        assert "Deployed: deployment" in shown.stdout
    finally:
        assert moss.stop() == 0, moss.log()
        server.shutdown()
        server.server_close()


def test_local_and_https_sources_need_no_credentials_and_s3_without_them_is_refused(
    moss_binary, tmp_path, monkeypatch
):
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.aws here
    monkeypatch.delenv("AWS_SHARED_CREDENTIALS_FILE", raising=False)
    monkeypatch.delenv("AWS_CONFIG_FILE", raising=False)
    (tmp_path / "models").mkdir()
    package = tmp_path / "models" / "model.zip"
    package.write_bytes(zipped({"model.txt": b"local one"}))
    moss = start_moss(moss_binary, tmp_path / "data")
    try:
        # A local package, relative to the group file, installs with no AWS at all.
        result = deploy(moss, tmp_path, model_group([("model", "file:models/model.zip")]))
        assert result.returncode == 0, result.stderr
        assert (current(moss, "model") / "model.txt").read_text() == "local one"
        first = installed(moss)["model"]["version"]
        # The same file again is unchanged; a new one is a new version.
        assert deploy(moss, tmp_path, model_group([("model", "file:models/model.zip")])).returncode == 0
        assert installed(moss)["model"]["version"] == first
        package.write_bytes(zipped({"model.txt": b"local two, longer"}))
        assert deploy(moss, tmp_path, model_group([("model", "file:models/model.zip")])).returncode == 0
        assert (current(moss, "model") / "model.txt").read_text() == "local two, longer"
        assert versions(moss, "model") == [installed(moss)["model"]["version"]] != [first]

        # S3 without credentials: refused, naming where Moss looked; the local version stays.
        result = deploy(moss, tmp_path, model_group([("model", "s3://greengrass-models/model.zip")]))
        assert result.returncode != 0
        assert "no AWS credentials" in result.stderr and "AWS_ACCESS_KEY_ID" in result.stderr, result.stderr
        history = json.loads(moss.moss("deployments", "--json", check=True).stdout)
        assert history[-1]["errorDetails"][0]["detailedErrorCode"] == "ResourceCredentialsMissing"

        # An https source that cannot be reached fails as a download, not as anything else.
        result = deploy(moss, tmp_path, model_group([("model", "https://127.0.0.1:1/model.zip")]))
        assert result.returncode != 0
        history = json.loads(moss.moss("deployments", "--json", check=True).stdout)
        assert history[-1]["errorDetails"][0]["detailedErrorCode"] == "ResourceDownloadFailed", history[-1]
        assert (current(moss, "model") / "model.txt").read_text() == "local two, longer"
    finally:
        assert moss.stop() == 0, moss.log()


def test_two_deployments_at_once_run_one_after_the_other(moss_binary, tmp_path, aws_environment):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowS3)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    path = tmp_path / "moss.yaml"
    path.write_text(f"resources:\n  s3Endpoint: http://127.0.0.1:{server.server_address[1]}\n")
    moss = start_moss(moss_binary, tmp_path / "data", "--config", str(path))
    try:
        groups = []
        for name in ("first", "second"):
            group = tmp_path / f"{name}.yaml"
            group.write_text(model_group([(name, f"s3://greengrass-slow/{name}.zip")]))
            groups.append(group)
        # Both downloads take about two seconds; started together, the second waits for the first.
        runs = [
            subprocess.Popen(
                [str(moss_binary), "deploy", str(group), "--json", "--data-dir", str(moss.data_dir)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for group in groups
        ]
        records = [json.loads(run.communicate(timeout=60)[0]) for run in runs]
        assert [record["status"] for record in records] == ["Success", "Success"]
        first, second = sorted(records, key=lambda record: record["sequence"])
        # The second download began only when the first deployment had finished: it alone lasts at least 2 s
        # (the server paces 20 chunks 0.1 s apart), so the two cannot have finished together.
        assert second["finishedAt"] - first["finishedAt"] >= 1.9
        # The group in effect is the one recorded last, and only its resource is installed.
        last = "first" if second["source"].endswith("first.yaml") else "second"
        assert set(installed(moss)) == {last}
        assert [p.name for p in (moss.data_dir / "resources").iterdir() if not p.name.startswith(".")] == [last]
    finally:
        assert moss.stop() == 0, moss.log()
        server.shutdown()
        server.server_close()


def https_server(directory: Path, files: dict[str, bytes]):
    """An HTTPS server on a free 127.0.0.1 port serving `files`, with a certificate from a CA of its own (made with
    openssl); returns (server, port, the CA's PEM file)."""
    import ssl

    def run(*arguments):
        subprocess.run(["openssl", *arguments], check=True, capture_output=True, cwd=directory)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Model CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem",
        "-days", "2", "-extfile", "san.ext")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = files.get(self.path.lstrip("/"))
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *arguments):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "server.pem", directory / "server.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1], directory / "ca.pem"


def test_an_https_source_installs_once_its_ca_is_trusted(moss_binary, tmp_path):
    (tmp_path / "tls").mkdir()
    server, port, ca = https_server(tmp_path / "tls", {"model.zip": zipped({"model.txt": b"over https"})})
    try:
        source = f"https://127.0.0.1:{port}/model.zip"
        # Without the CA: the certificate is refused, nothing is installed.
        moss = start_moss(moss_binary, tmp_path / "untrusting")
        try:
            result = deploy(moss, tmp_path, model_group([("model", source)]))
            assert result.returncode != 0
            assert installed(moss) == {}
        finally:
            assert moss.stop() == 0, moss.log()
        (tmp_path / "moss.yaml").write_text(f"resources:\n  trustedCertificates: {ca}\n")
        moss = start_moss(moss_binary, tmp_path / "data", "--config", str(tmp_path / "moss.yaml"))
        try:
            result = deploy(moss, tmp_path, model_group([("model", source)]))
            assert result.returncode == 0, result.stderr
            assert (current(moss, "model") / "model.txt").read_text() == "over https"
        finally:
            assert moss.stop() == 0, moss.log()
    finally:
        server.shutdown()
