#!/usr/bin/env bash
# The seed tutorial's two Lambda functions, exactly as the tutorial prints them, on Moss with real TensorFlow and the
# tutorial's own models; not in CI (it installs TensorFlow, about 600 MB). Result recorded in docs/e2e-tensorflow.md.
#
#   sudo scripts/e2e-tensorflow.sh                           # a throwaway venv under /var/tmp, removed afterwards
#   MOSS_E2E_VENV=/var/tmp/moss-e2e-venv scripts/e2e-tensorflow.sh   # kept and reused (made on first use)
#   MOSS_BINARY=.build/debug/moss scripts/e2e-tensorflow.sh  # a moss already built (default: scripts/build/release.sh)
#
# What it does: reads the republishing and the inference Lambda from ../shared/seeds at run time (never copied into
# the repository, never changed), puts greengrasssdk beside each (pip --target, as the tutorial zipped it), serves
# ../shared/seed-models/*.zip as S3 ML resources from moto_server on a free 127.0.0.1 port, starts moss on free ports,
# deploys the tutorial's group (a sensor with a `moss certs` certificate; repub on demand, 15 s timeout, accessSysfs;
# inference pinned, with both models at /ggml/tensorflow/...), publishes BME680-like readings over mutual TLS, and
# waits for rain_prediction in the sensor's shadow: 1 for rainy readings, then 0 once the readings turn dry.
# Prints PASS or FAIL; stops everything it started.
#
# Needs root: the tutorial's functions run in Greengrass containers (mount namespaces), which Moss sets up as root.
# The venv must live outside /tmp (a container's /tmp is private) and on an interpreter the functions' user (nobody)
# can run: Debian's /usr/bin/python3 by default (MOSS_E2E_PYTHON), not a pyenv Python under /root.
#
# The seed's republisher reads /sys/class/thermal/thermal_zone0/temp (a Raspberry Pi's CPU temperature) and, when the
# file is missing, fails (cpu_temp, then message, unbound). A VM has no thermal zone, so the group gives the function
# one as the tutorial's own feature allows: a local volume resource (a directory holding thermal_zone0/temp = 45000,
# i.e. 45 °C) mounted at /sys/class/thermal in its container. The function's code is untouched.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
seed="${MOSS_SEED:-$root/../shared/seeds/001_8fa8090d5f9ce920.txt}"
seed_models="${MOSS_SEED_MODELS:-$root/../shared/seed-models}"
tensorflow_version="${MOSS_E2E_TENSORFLOW:-2.21.0}"
base_python="${MOSS_E2E_PYTHON:-/usr/bin/python3}"
thing=bme680-sensor
prediction_timeout="${MOSS_E2E_TIMEOUT:-600}"  # TensorFlow's import in a fresh container is slow on a small gateway

say() { printf '== %s\n' "$*" >&2; }
fail() { printf 'FAIL: %s\n' "$*"; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "run as root: the tutorial's functions run in Greengrass containers"
[ -f "$seed" ] || fail "the seed tutorial is not at $seed (MOSS_SEED)"
for model in standardiser rain_predictor; do
    [ -f "$seed_models/$model.zip" ] || fail "$seed_models/$model.zip is missing (MOSS_SEED_MODELS)"
done
command -v mosquitto_pub >/dev/null || fail "mosquitto_pub is missing: apt-get install mosquitto-clients"

# Everything started is recorded here and stopped on exit, by process id (the sensor by its own process group).
work="" venv_throwaway="" moss_pid="" moto_pid="" sensor_pid=""
cleanup() {
    local status=$?
    set +e
    if [ -n "$sensor_pid" ]; then kill -- "-$sensor_pid" 2>/dev/null; wait "$sensor_pid" 2>/dev/null; fi
    if [ -n "$moss_pid" ]; then
        kill -TERM "$moss_pid" 2>/dev/null
        # moss stops its functions (SIGTERM, SIGKILL 2 s later) before it exits.
        for _ in $(seq 150); do kill -0 "$moss_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$moss_pid" 2>/dev/null
        wait "$moss_pid" 2>/dev/null
    fi
    if [ -n "$moto_pid" ]; then kill "$moto_pid" 2>/dev/null; wait "$moto_pid" 2>/dev/null; fi
    if [ -n "$work" ] && [ -z "${MOSS_E2E_KEEP:-}" ]; then rm -rf "$work"; elif [ -n "$work" ]; then say "kept $work"; fi
    if [ -n "$venv_throwaway" ]; then rm -rf "$venv_throwaway"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

started=$(date +%s)
elapsed() { echo $(( $(date +%s) - started )); }

# 1. The venv: TensorFlow, tf-keras (TF 2.21 with Keras 3 cannot revive the tutorial's Keras-2 rain_predictor without
# it), greengrasssdk (copied into each function's code directory) and moto_server (plays S3).
if [ -n "${MOSS_E2E_VENV:-}" ]; then
    venv="$MOSS_E2E_VENV"
else
    venv="$(mktemp -d /var/tmp/moss-e2e-venv.XXXXXX)"
    venv_throwaway="$venv"
fi
case "$(realpath -m "$venv")" in
    /tmp|/tmp/*) fail "the venv $venv is under /tmp, which a function's container does not see; use one under /var/tmp" ;;
esac
[ -x "$venv/bin/python" ] || { say "creating a venv at $venv with $base_python"; "$base_python" -m venv "$venv"; }
python="$venv/bin/python"
if ! "$python" - "$tensorflow_version" <<'PY' 2>/dev/null
import importlib.metadata as m, sys
sys.exit(0 if m.version("tensorflow-cpu") == sys.argv[1] and m.version("tf-keras") and m.version("greengrasssdk") == "1.6.1"
         and m.version("moto") else 1)
PY
then
    say "installing tensorflow-cpu $tensorflow_version, tf-keras, greengrasssdk 1.6.1 and moto[server] into $venv"
    "$python" -m pip install -q --disable-pip-version-check "tensorflow-cpu==$tensorflow_version" "greengrasssdk==1.6.1" "moto[server]"
    # --no-deps: tf-keras requires the `tensorflow` package, which would pull the full (GPU-capable) TensorFlow as well.
    "$python" -m pip install -q --disable-pip-version-check --no-deps "tf-keras~=${tensorflow_version%.*}.0"
fi
# The functions run as nobody: the interpreter (the venv's link and what it points to) must be theirs to run.
chmod -R a+rX "$venv"
if ! setpriv --reuid=nobody --regid=nogroup --clear-groups "$python" -c "import tensorflow" 2>/dev/null; then
    fail "nobody cannot import TensorFlow with $python (resolves to $(realpath "$python")); make the venv with a Python every user can run (MOSS_E2E_PYTHON=/usr/bin/python3)"
fi
tf_version="$("$python" -c 'import tensorflow as tf; print(tf.__version__)' 2>/dev/null)"
say "venv ready after $(elapsed) s: Python $("$python" -c 'import platform; print(platform.python_version())'), TensorFlow $tf_version"

# 2. moss.
if [ -n "${MOSS_BINARY:-}" ]; then
    moss="$MOSS_BINARY"
else
    moss="$("$root/scripts/build/release.sh")"
fi
[ -x "$moss" ] || fail "no moss binary at $moss"

# 3. The gateway's files, readable by every user (functions run as nobody).
work="$(mktemp -d /tmp/moss-e2e.XXXXXX)"
chmod 755 "$work"
data="$work/data"
"$python" - "$seed" "$work" <<'PY'
# The two Lambdas exactly as the seed prints them, under the tutorial's own file names.
import pathlib, re, sys
text = pathlib.Path(sys.argv[1]).read_text()
blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
repub = [b for b in blocks if b.startswith("import greengrasssdk\nimport logging") and "def get_cpu_temperature" in b]
inference = [b for b in blocks if b.startswith("import greengrasssdk\nimport tensorflow as tf") and "while True:" in b]
assert len(repub) == 1 and len(inference) == 1, "the seed should print each full Lambda once"
work = pathlib.Path(sys.argv[2])
for directory, name, code in (("repub", "greengrass_repub_lambda.py", repub[0]), ("inference", "ml_inference_lambda.py", inference[0])):
    (work / directory).mkdir()
    (work / directory / name).write_text(code)
PY
for function in repub inference; do
    "$python" -m pip install -q --disable-pip-version-check --no-deps --target "$work/$function" "greengrasssdk==1.6.1"
done
mkdir -p "$work/thermal/thermal_zone0"
echo 45000 > "$work/thermal/thermal_zone0/temp"  # millidegrees, as the kernel writes it: a Pi at 45 °C
chmod -R a+rX "$work"

# 4. S3 in moto, with the tutorial's zips as they are, in a bucket the default Greengrass policy allows.
port_free() { "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
moto_port="$(port_free)"
"$venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" > "$work/moto.log" 2>&1 &
moto_pid=$!
export AWS_ACCESS_KEY_ID=AKIDMOSSE2E AWS_SECRET_ACCESS_KEY=moss/e2e AWS_DEFAULT_REGION=us-east-1
export AWS_SHARED_CREDENTIALS_FILE="$work/no-credentials" AWS_CONFIG_FILE="$work/no-config"
unset AWS_SESSION_TOKEN AWS_PROFILE
"$python" - "$moto_port" "$seed_models" <<'PY'
import socket, sys, time, boto3
port, models = int(sys.argv[1]), sys.argv[2]
deadline = time.monotonic() + 60
while True:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit("moto_server did not answer within 60 s")
        time.sleep(0.1)
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1")
s3.create_bucket(Bucket="rain-greengrass-models")
for model in ("standardiser", "rain_predictor"):
    s3.upload_file(f"{models}/{model}.zip", "rain-greengrass-models", f"{model}.zip")
PY

# 5. moss, its certificates, the core configuration and the group.
"$moss" certs init --data-dir "$data" >/dev/null
"$moss" certs device "$thing" --data-dir "$data" >/dev/null
cat > "$work/moss.yaml" <<EOF
functions:
  pythonRuntimes:
    python3.11: $python
resources:
  s3Endpoint: http://127.0.0.1:$moto_port
EOF
cat > "$work/group.yaml" <<EOF
core:
  thingName: rain-gateway
devices:
  - thingName: $thing
    certificate: $data/certs/devices/$thing.pem
functions:
  - id: repub
    name: repub
    runtime: python3.11
    handler: greengrass_repub_lambda.function_handler
    code: $work/repub
    pinned: false
    timeout: 15                 # "at least 10 seconds": the handler averages the CPU temperature over 8 s
    accessSysfs: true
    environment:
      variables:
        THING_NAME: $thing
    resourceAccessPolicies:
      - resourceId: thermal
        permission: ro
  - id: inference
    name: inference
    runtime: python3.11
    handler: ml_inference_lambda.function_handler
    code: $work/inference
    pinned: true
    timeout: 900
    memorySize: 2097152         # KB: importing TensorFlow and loading both models takes about 520 MB resident
    environment:
      variables:
        THING_NAME: $thing
    resourceAccessPolicies:
      - resourceId: standardiser
        permission: ro
      - resourceId: rain_predictor
        permission: ro
resources:
  - id: thermal
    name: thermal
    localVolume:
      sourcePath: $work/thermal
      destinationPath: /sys/class/thermal
  - id: standardiser
    name: standardiser
    machineLearningModel:
      source: s3://rain-greengrass-models/standardiser.zip
      destinationPath: /ggml/tensorflow/standardiser
  - id: rain_predictor
    name: rain_predictor
    machineLearningModel:
      source: s3://rain-greengrass-models/rain_predictor.zip
      destinationPath: /ggml/tensorflow/rain_predictor
subscriptions:
  - id: sensor-to-repub
    source: device:$thing
    subject: bme680/readings
    target: function:repub
EOF
"$moss" run --data-dir "$data" --mqtt-port 0 --mqtts-port 0 --config "$work/moss.yaml" > "$work/moss.log" 2>&1 &
moss_pid=$!
for _ in $(seq 600); do
    [ -f "$data/ports.json" ] && break
    kill -0 "$moss_pid" 2>/dev/null || { cat "$work/moss.log" >&2; fail "moss exited before it was ready"; }
    sleep 0.1
done
[ -f "$data/ports.json" ] || fail "moss did not write ports.json within 60 s"
mqtts_port="$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["mqtts"])' "$data/ports.json")"
deploy_started=$(date +%s)
"$moss" deploy "$work/group.yaml" --data-dir "$data" >&2 || { cat "$work/moss.log" >&2; fail "the deployment failed"; }
say "deployed after $(( $(date +%s) - deploy_started )) s"

# 6. The sensor: BME680-like readings every 3 s over mutual TLS; the weather it reports is read from a file, so the
# script can turn it from rain to dry. In its own process group, so that stopping it stops its mosquitto_pub too.
echo rain > "$work/weather"
setsid bash -c '
    n=0
    while true; do
        n=$((n + 1))
        # [974.8, 0.7, 95] is one of the seed models reference readings (y = 0.70); the republisher compensates the
        # temperature as 2 * t - 45 with the CPU at 45 degrees C, so t = 22.8 gives 0.6 hPa, degrees C, %.
        if [ "$(cat "$1/weather")" = rain ]; then reading="{\"temperature\": 22.8, \"humidity\": 95.0, \"pressure\": 974.8, \"message\": \"reading $n\"}"
        else reading="{\"temperature\": 23.85, \"humidity\": 36.0, \"pressure\": 1007.6, \"message\": \"reading $n\"}"; fi
        mosquitto_pub -h 127.0.0.1 -p "$2" --cafile "$3/certs/ca.pem" --cert "$3/certs/devices/$4.pem" \
            --key "$3/certs/devices/$4.key" -i "$4" -q 1 -t bme680/readings -m "$reading" || true
        sleep 3  # the sensor'"'"'s pace
    done' sensor "$work" "$mqtts_port" "$data" "$thing" > "$work/sensor.log" 2>&1 &
sensor_pid=$!

reported() {  # KEY: the value in the shadow's reported state, or nothing
    "$moss" shadow get "$thing" --json --data-dir "$data" 2>/dev/null |
        "$python" -c 'import json, sys; print(json.load(sys.stdin)["state"].get("reported", {}).get(sys.argv[1], ""))' "$1" 2>/dev/null || true
}
wait_for() {  # KEY VALUE SECONDS: polls the shadow until reported KEY is VALUE
    local deadline=$(( $(date +%s) + $3 ))
    while [ "$(reported "$1")" != "$2" ]; do
        if [ "$(date +%s)" -gt "$deadline" ]; then return 1; fi
        kill -0 "$moss_pid" 2>/dev/null || return 1
        sleep 0.5
    done
}
show_failure() {
    echo "-- shadow:"; "$moss" shadow get "$thing" --json --data-dir "$data" || true
    for function in repub inference; do echo "-- moss logs $function:"; "$moss" logs "$function" --data-dir "$data" | tail -40 || true; done
    echo "-- moss log:"; tail -40 "$work/moss.log"
    fail "$1"
}

wait_for pressure 974.8 120 || show_failure "no reading reached the shadow within 120 s"
say "first reading in the shadow after $(( $(date +%s) - deploy_started )) s"
wait_for rain_prediction 1 "$prediction_timeout" || show_failure "no rain_prediction 1 within ${prediction_timeout} s of the deployment"
rain_at=$(( $(date +%s) - deploy_started ))
say "rain_prediction 1 after $rain_at s"
rainy_shadow="$("$moss" shadow get "$thing" --json --data-dir "$data")"
echo dry > "$work/weather"
phase=$(date +%s)
wait_for rain_prediction 0 120 || show_failure "rain_prediction did not turn 0 within 120 s of dry readings"
dry_after=$(( $(date +%s) - phase ))
say "rain_prediction 0 after $dry_after s of dry readings"
echo "-- shadow while it rained:"
echo "$rainy_shadow"
echo "-- shadow once dry:"
"$moss" shadow get "$thing" --json --data-dir "$data"
echo "-- inference log (last lines):"
"$moss" logs inference --data-dir "$data" | tail -6 || true
echo "PASS: TensorFlow $tf_version, the seed's two Lambdas unmodified: rain_prediction 1 after ${rain_at} s, 0 after ${dry_after} s of dry readings (total $(elapsed) s)"
