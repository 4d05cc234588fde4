#!/usr/bin/env python3
"""Signs a table of requests with botocore's SigV4 signers at a fixed time and writes the results as JSON.

MossAWS has no AWS SDK to lean on, so its signer is checked against botocore's: Tests/MossAWSTests signs the
same requests and must produce the same canonical request, string to sign and Authorization header (or
presigned URL). The output is deterministic: same botocore, same bytes.

    scripts/aws/sigv4_vectors.py                 # rewrites Tests/MossAWSTests/Fixtures/sigv4.json
    scripts/aws/sigv4_vectors.py --stdout        # prints it instead (the pytest compares the two)

Requests are built the way botocore's serializers build them: an S3 key is encoded once with
`percent_encode(key, safe="/~")`, query strings with `percent_encode_sequence`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import string
import sys
from pathlib import Path
from unittest import mock

import botocore
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.utils import percent_encode, percent_encode_sequence

FIXTURE = Path(__file__).resolve().parents[2] / "Tests/MossAWSTests/Fixtures/sigv4.json"
TIME = datetime.datetime(2026, 1, 15, 12, 34, 56)
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+token/with=chars"

KEY_NEEDING_ENCODING = "models/rain predictor/ü+&=?#%~;@$,!'()*[].zip"


def s3_key_path(bucket: str | None, key: str) -> str:
    """The wire path of an object, as botocore's rest-xml serializer writes it (greedy label `{Key+}`)."""
    prefix = f"/{percent_encode(bucket, safe='/~')}" if bucket else ""
    return f"{prefix}/{percent_encode(key, safe='/~')}"


def query(pairs: list[tuple[str, str]]) -> str:
    return "?" + percent_encode_sequence(pairs)


# Each case: the request as it goes on the wire, and how to sign it.
#   signer: "s3" (S3SigV4Auth / S3SigV4QueryAuth) or "standard" (SigV4Auth / SigV4QueryAuth)
#   mode: "header" (Authorization header) or "query" (presigned URL, `expires` seconds)
#   headers: a list of pairs, so a name may repeat (multi-value headers)
CASES: list[dict] = [
    {
        "name": "s3 GET with a Range header, virtual-hosted",
        "signer": "s3", "service": "s3", "region": "us-east-1", "method": "GET",
        "url": "https://examplebucket.s3.us-east-1.amazonaws.com/test.txt",
        "headers": [["Range", "bytes=0-9"]],
    },
    {
        "name": "s3 GET of a key needing encoding, path-style (bucket with dots)",
        "signer": "s3", "service": "s3", "region": "eu-west-1", "method": "GET",
        "url": "https://s3.eu-west-1.amazonaws.com" + s3_key_path("my.dotted.bucket", KEY_NEEDING_ENCODING),
        "headers": [],
    },
    {
        "name": "s3 GET of a key with dot segments and double slashes (kept as they are for s3)",
        "signer": "s3", "service": "s3", "region": "eu-west-1", "method": "GET",
        "url": "https://greengrass-models.s3.eu-west-1.amazonaws.com" + s3_key_path(None, "a/./b/../c//d.zip"),
        "headers": [],
    },
    {
        "name": "s3 HEAD with If-None-Match",
        "signer": "s3", "service": "s3", "region": "eu-central-1", "method": "HEAD",
        "url": "https://greengrass-models.s3.eu-central-1.amazonaws.com" + s3_key_path(None, "rain/model.zip"),
        "headers": [["If-None-Match", '"9b2cf535f27731c974343645a3985328"']],
    },
    {
        "name": "s3 GET with UNSIGNED-PAYLOAD",
        "signer": "s3", "service": "s3", "region": "us-west-2", "method": "GET",
        "url": "https://greengrass-models.s3.us-west-2.amazonaws.com" + s3_key_path(None, "standardiser.zip"),
        "headers": [],
        "unsignedPayload": True,
    },
    {
        "name": "s3 PUT with a signed body",
        "signer": "s3", "service": "s3", "region": "us-east-1", "method": "PUT",
        "url": "https://s3.us-east-1.amazonaws.com" + s3_key_path("greengrass-models", "notes/readme.txt"),
        "headers": [["Content-Type", "text/plain"], ["Content-Length", "23"]],
        "body": "Welcome to Amazon S3.\r\n",
    },
    {
        "name": "s3 GET with a session token",
        "signer": "s3", "service": "s3", "region": "us-east-1", "method": "GET",
        "url": "https://greengrass-models.s3.us-east-1.amazonaws.com" + s3_key_path(None, "model.zip"),
        "headers": [],
        "sessionToken": True,
    },
    {
        "name": "s3 GET with a query string of reserved characters",
        "signer": "s3", "service": "s3", "region": "us-east-1", "method": "GET",
        "url": "https://greengrass-models.s3.us-east-1.amazonaws.com/"
        + query([("list-type", "2"), ("prefix", "rain models/ü&=+"), ("delimiter", "/"), ("start-after", "")]),
        "headers": [],
    },
    {
        "name": "s3 GET of a sub-resource with no value (?acl)",
        "signer": "s3", "service": "s3", "region": "us-east-1", "method": "GET",
        "url": "https://greengrass-models.s3.us-east-1.amazonaws.com" + s3_key_path(None, "model.zip") + "?acl",
        "headers": [],
    },
    {
        "name": "s3 GET over http on a non-default port (moto on loopback)",
        "signer": "s3", "service": "s3", "region": "us-east-1", "method": "GET",
        "url": "http://127.0.0.1:5123" + s3_key_path("greengrass-models", "rain/model.zip"),
        "headers": [["If-None-Match", '"abc"']],
    },
    {
        "name": "s3 GET over http on the default port (no port in Host)",
        "signer": "s3", "service": "s3", "region": "us-east-1", "method": "GET",
        "url": "http://localhost:80" + s3_key_path("greengrass-models", "model.zip"),
        "headers": [],
    },
    {
        "name": "sagemaker DescribeTrainingJob (JSON 1.1 POST)",
        "signer": "standard", "service": "sagemaker", "region": "eu-west-1", "method": "POST",
        "url": "https://api.sagemaker.eu-west-1.amazonaws.com/",
        "headers": [
            ["X-Amz-Target", "SageMaker.DescribeTrainingJob"],
            ["Content-Type", "application/x-amz-json-1.1"],
        ],
        "body": '{"TrainingJobName": "rain-predictor-2026-01-15"}',
    },
    {
        "name": "sagemaker DescribeTrainingJob with a session token",
        "signer": "standard", "service": "sagemaker", "region": "us-east-1", "method": "POST",
        "url": "https://api.sagemaker.us-east-1.amazonaws.com/",
        "headers": [
            ["X-Amz-Target", "SageMaker.DescribeTrainingJob"],
            ["Content-Type", "application/x-amz-json-1.1"],
        ],
        "body": '{"TrainingJobName": "rain"}',
        "sessionToken": True,
    },
    {
        "name": "iot data GetThingShadow of a named shadow",
        "signer": "standard", "service": "iotdata", "region": "eu-west-1", "method": "GET",
        "url": "https://a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com/things/bme680-sensor/shadow"
        + query([("name", "weather")]),
        "headers": [],
    },
    {
        "name": "iot data UpdateThingShadow, thing and shadow names with colons (path encoded twice)",
        "signer": "standard", "service": "iotdata", "region": "eu-west-1", "method": "POST",
        "url": "https://a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com/things/"
        + percent_encode("site:1_bme-680", safe="")
        + "/shadow"
        + query([("name", "sync:rain")]),
        "headers": [["Content-Type", "application/json"]],
        "body": '{"state":{"reported":{"temperature":21.5,"rain_prediction":"no rain"}}}',
    },
    {
        "name": "iot data DeleteThingShadow with a session token",
        "signer": "standard", "service": "iotdata", "region": "us-east-1", "method": "DELETE",
        "url": "https://a1b2c3d4e5f6g7-ats.iot.us-east-1.amazonaws.com/things/bme680-sensor/shadow",
        "headers": [],
        "sessionToken": True,
    },
    {
        "name": "standard path normalised: dot segments, double slashes, encoded twice",
        "signer": "standard", "service": "execute-api", "region": "us-east-1", "method": "GET",
        "url": "https://example.execute-api.us-east-1.amazonaws.com/a/./b/../c//d%20e/f~g/",
        "headers": [],
    },
    {
        "name": "standard query string: sorting by encoded key then value, reserved characters, empty values",
        "signer": "standard", "service": "iotdata", "region": "us-east-1", "method": "GET",
        "url": "https://a1b2c3d4e5f6g7-ats.iot.us-east-1.amazonaws.com/api/things/shadow/ListNamedShadowsForThing/x"
        + query([
            ("pageSize", "25"), ("Zeta", "~-._"), ("key", "b"), ("key", "a"), ("space", "a b"),
            ("reserved", "!*'();:@&=+$,/?#[]%"), ("empty", ""), ("unicode", "é€😀"),
        ]),
        "headers": [],
    },
    {
        "name": "headers: multi-value, excess whitespace, empty value, mixed case, unsigned ones skipped",
        "signer": "standard", "service": "sagemaker", "region": "us-east-1", "method": "POST",
        "url": "https://api.sagemaker.us-east-1.amazonaws.com/",
        "headers": [
            ["X-Amz-Target", "SageMaker.DescribeTrainingJob"],
            ["Content-Type", "application/x-amz-json-1.1"],
            ["X-Amz-Meta-Tags", "first"],
            ["x-amz-meta-tags", "  second   value  "],
            ["My-Header", "\ta  \t b\t c  "],
            ["X-Empty", ""],
            ["User-Agent", "moss/0.1"],
            ["Expect", "100-continue"],
            ["Connection", "keep-alive"],
        ],
        "body": "{}",
    },
    {
        "name": "standard POST with UNSIGNED-PAYLOAD over https",
        "signer": "standard", "service": "sagemaker", "region": "us-east-1", "method": "POST",
        "url": "https://api.sagemaker.us-east-1.amazonaws.com/",
        "headers": [
            ["X-Amz-Target", "SageMaker.DescribeTrainingJob"],
            ["Content-Type", "application/x-amz-json-1.1"],
        ],
        "body": '{"TrainingJobName": "rain"}',
        "unsignedPayload": True,
    },
    {
        "name": "s3 presigned GET of a key needing encoding",
        "signer": "s3", "service": "s3", "region": "eu-west-1", "method": "GET", "mode": "query", "expires": 900,
        "url": "https://greengrass-models.s3.eu-west-1.amazonaws.com" + s3_key_path(None, KEY_NEEDING_ENCODING),
        "headers": [],
    },
    {
        "name": "s3 presigned GET with a session token and an operation parameter",
        "signer": "s3", "service": "s3", "region": "us-east-1", "method": "GET", "mode": "query", "expires": 3600,
        "url": "https://s3.us-east-1.amazonaws.com" + s3_key_path("my.dotted.bucket", "rain/model.zip")
        + query([("versionId", "3/L4kqtJl40Nr8X8gdRQBpUMLUo"), ("response-content-type", "application/zip")]),
        "headers": [],
        "sessionToken": True,
    },
    {
        "name": "s3 presigned HEAD with a signed header",
        "signer": "s3", "service": "s3", "region": "us-east-1", "method": "HEAD", "mode": "query", "expires": 60,
        "url": "http://127.0.0.1:5123" + s3_key_path("greengrass-models", "model.zip"),
        "headers": [["If-None-Match", '"abc"']],
    },
    {
        "name": "standard presigned GET (iot data GetThingShadow)",
        "signer": "standard", "service": "iotdata", "region": "eu-west-1", "method": "GET", "mode": "query",
        "expires": 300,
        "url": "https://a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com/things/bme680-sensor/shadow"
        + query([("name", "weather")]),
        "headers": [],
    },
]


def random_cases(count: int, seed: int = 2026) -> list[dict]:
    """Generated requests (a fixed seed, so the same every run): keys, names, query strings and headers drawn from
    alphabets that stress encoding, sorting and white space, signed by each signer in each mode."""
    rng = random.Random(seed)
    alphabet = string.ascii_letters + string.digits + " -_.~!*'();:@&=+$,/?#[]%" + "éü€😀 "
    header_names = ["X-Amz-Meta-A", "x-amz-meta-a", "X-Amz-Meta-B", "Content-Type", "If-None-Match", "Range", "X-Z"]
    header_alphabet = string.ascii_letters + string.digits + " \t,;=\"/-"

    def text(characters: str, low: int, high: int) -> str:
        return "".join(rng.choice(characters) for _ in range(rng.randint(low, high)))

    cases = []
    for index in range(count):
        signer = rng.choice(["s3", "standard"])
        mode = "query" if index % 4 == 3 else "header"
        host = rng.choice(["https://greengrass-models.s3.eu-west-1.amazonaws.com", "http://127.0.0.1:5123"])
        if signer == "s3":
            path = s3_key_path(None, text(alphabet, 1, 24))
        else:
            segments = [rng.choice([".", "..", "", text(alphabet, 1, 10)]) for _ in range(rng.randint(1, 4))]
            path = "/" + "/".join(percent_encode(segment, safe="") for segment in segments)
        # A presigned URL's query is parsed into a dict by botocore, so its names are unique there.
        names = [text(alphabet, 1, 6) for _ in range(rng.randint(0, 4))]
        pairs = [(name, text(alphabet, 0, 8)) for name in (dict.fromkeys(names) if mode == "query" else names)]
        headers = [[rng.choice(header_names), text(header_alphabet, 0, 12)] for _ in range(rng.randint(0, 4))]
        case = {
            "name": f"generated {index}: {signer} {mode}",
            "signer": signer,
            "service": "s3" if signer == "s3" else rng.choice(["iotdata", "sagemaker"]),
            "region": rng.choice(["us-east-1", "eu-west-1", "ap-southeast-2"]),
            "method": rng.choice(["GET", "HEAD", "PUT", "POST", "DELETE"]) if mode == "header" else "GET",
            "url": host + path + (query(pairs) if pairs else ""),
            "headers": headers,
            "sessionToken": rng.random() < 0.3,
        }
        if mode == "query":
            case.update(mode="query", expires=rng.randint(1, 604800))
        else:
            case["body"] = text(alphabet, 0, 40) if case["method"] in ("PUT", "POST") else ""
            case["unsignedPayload"] = rng.random() < 0.2
        cases.append(case)
    return cases


CASES += random_cases(48)

SIGNERS = {
    ("s3", "header"): S3SigV4Auth,
    ("standard", "header"): SigV4Auth,
    ("s3", "query"): S3SigV4QueryAuth,
    ("standard", "query"): SigV4QueryAuth,
}


def recording(signer_class):
    """A subclass of a botocore signer that keeps the canonical request and string to sign it computed."""

    class Recording(signer_class):
        def string_to_sign(self, request, canonical_request):
            self.canonical_request_seen = canonical_request
            self.string_to_sign_seen = super().string_to_sign(request, canonical_request)
            return self.string_to_sign_seen

    return Recording


def sign(case: dict) -> dict:
    mode = case.get("mode", "header")
    token = SESSION_TOKEN if case.get("sessionToken") else None
    credentials = Credentials(ACCESS_KEY, SECRET_KEY, token)
    signer_class = recording(SIGNERS[(case["signer"], mode)])
    if mode == "query":
        signer = signer_class(credentials, case["service"], case["region"], expires=case["expires"])
    else:
        signer = signer_class(credentials, case["service"], case["region"])

    body = case.get("body", "").encode()
    request = AWSRequest(method=case["method"], url=case["url"], data=body)
    for name, value in case["headers"]:
        request.headers[name] = value  # HTTPMessage appends: a repeated name keeps both values
    if case.get("unsignedPayload"):
        request.context["payload_signing_enabled"] = False
        request.context["client_config"] = Config(s3={"payload_signing_enabled": False})

    with mock.patch("botocore.auth.get_current_datetime", return_value=TIME):
        signer.add_auth(request)

    result = {
        "canonicalRequest": signer.canonical_request_seen,
        "stringToSign": signer.string_to_sign_seen,
    }
    if mode == "query":
        result["presignedURL"] = request.url
    else:
        result["authorization"] = request.headers["Authorization"]
        # The headers the signer added, in the order it added them.
        added = {name for name, _ in case["headers"]} | {"Authorization"}
        result["addedHeaders"] = [[name, value] for name, value in request.headers.items() if name not in added]
    return result


def vectors() -> dict:
    cases = []
    for case in CASES:
        entry = {"mode": "header", "body": "", "sessionToken": False, "unsignedPayload": False, **case}
        entry["expected"] = sign(case)
        cases.append(entry)
    return {
        "botocore": botocore.__version__,
        "time": TIME.strftime("%Y%m%dT%H%M%SZ"),
        "epochSeconds": int(TIME.replace(tzinfo=datetime.timezone.utc).timestamp()),
        "credentials": {"accessKeyID": ACCESS_KEY, "secretAccessKey": SECRET_KEY, "sessionToken": SESSION_TOKEN},
        "cases": cases,
    }


def render() -> str:
    # botocore's version is recorded for the reader but not compared: the signatures are what must not change.
    return json.dumps(vectors(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stdout", action="store_true", help="print the fixture instead of writing it")
    arguments = parser.parse_args()
    text = render()
    if arguments.stdout:
        sys.stdout.write(text)
    else:
        FIXTURE.parent.mkdir(parents=True, exist_ok=True)
        FIXTURE.write_text(text, encoding="utf-8")
        print(f"wrote {len(CASES)} cases to {FIXTURE}")


if __name__ == "__main__":
    main()
