"""Random operation sequences against an independent model of the shadow spec, over MQTT and over the admin API.

Each seed builds 2-3 things with a classic and 1-2 named shadows, then runs a sequence of updates (random nested
desired/reported patches with nulls, arrays, type changes, numbers that are equal as 1 and 1.0, optional right or
stale `version`, optional clientToken, some invalid ones), GETs and DELETEs. Every reply is compared with the
model below, which is written from the spec (§2-§8) and Moss's chosen behaviours (docs/shadows.md) and shares
nothing with the Swift side: accepted/rejected, the presence and content of update/delta, update/documents with
previous and current, GET documents, per-leaf metadata. The model takes the `timestamp` of each accepted update as
that update's time, so leaf timestamps are checked exactly; every message an update publishes must carry it.

Where the spec leaves a point open the model follows docs/shadows.md (an empty or all-null object written over a
scalar removes it, nulls anywhere inside arrays are refused, objects in arrays are kept as sent). Generated
requests stay clear of state sizes near 8192 bytes, where byte accounting details would decide.

`test_the_model_passes_the_spec_vectors` replays the 48 vectors against the model itself (no daemon): it checks
the model, the comparator and the fixture together.

MOSS_SHADOW_SEEDS (default 30) and MOSS_SHADOW_OPS (default 40) size the random runs.
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from shadow_helpers import (  # noqa: F401 (fixtures)
    ERROR_TYPES,
    UTF8_MESSAGE,
    AdminAPI,
    Bindings,
    ShadowClient,
    admin,
    assert_matches,
    assert_rest_error,
    json_equal,
    load_vectors,
    mqtt,
    shadow_daemon,
    shadow_prefix,
    unique,
)

SEEDS = int(os.environ.get("MOSS_SHADOW_SEEDS", "30"))
OPERATIONS = int(os.environ.get("MOSS_SHADOW_OPS", "40"))

# MARK: The model

SIZE_LIMIT = 8192
MAX_DEPTH = 6
TOKEN_BYTES = 64
SECTIONS = ("desired", "reported")
THING_NAME = re.compile(r"[a-zA-Z0-9:_-]{1,128}")
SHADOW_NAME = re.compile(r"[$a-zA-Z0-9:_-]{1,64}")


class Rejected(Exception):
    def __init__(self, code: int, message: str, token: str | None = None):
        super().__init__(code, message)
        self.code, self.message, self.token = code, message, token

    def document(self) -> dict:
        return {"code": self.code, "message": self.message, **({"clientToken": self.token} if self.token is not None else {})}


def _no_constants(name: str):
    raise ValueError(f"{name} is not JSON")


def parse_object(payload: bytes) -> dict:
    """Steps 1-2 of spec §3.1: UTF-8 (415), then a JSON object (400). Duplicate keys: the last one wins."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected(415, UTF8_MESSAGE)
    try:
        document = json.loads(text, parse_constant=_no_constants)
    except ValueError:
        raise Rejected(400, "Invalid JSON")
    if not isinstance(document, dict):
        raise Rejected(400, "Invalid JSON")
    return document


def depth(value) -> int:
    """Levels of a section (§3.5): each non-empty object or array is one; scalars and empty containers none."""
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    children = list(children)
    return 1 + max(map(depth, children), default=0) if children else 0


def has_null_in_array(value, inside: bool = False) -> bool:
    """A null anywhere inside an array, objects in arrays included (Moss's choice for spec question 5)."""
    if value is None:
        return inside
    if isinstance(value, dict):
        return any(has_null_in_array(v, inside) for v in value.values())
    if isinstance(value, list):
        return any(has_null_in_array(v, True) for v in value)
    return False


def mirror(value, now: int):
    """Metadata of a value: the same shape, every leaf (a null too) becomes {"timestamp": now}."""
    if isinstance(value, dict):
        return {k: mirror(v, now) for k, v in value.items()}
    if isinstance(value, list):
        return [mirror(v, now) for v in value]
    return {"timestamp": now}


def strip_nulls(value: dict) -> dict:
    """A new object written where no object was: nulls dropped, objects left empty dropped (arrays kept as sent)."""
    out = {}
    for k, v in value.items():
        if v is None:
            continue
        if isinstance(v, dict):
            v = strip_nulls(v)
            if not v:
                continue
        out[k] = v
    return out


def merge_into(stored: dict, meta: dict, patch: dict, now: int) -> None:
    """The key-level merge of §3.3 on a section (stored value and metadata in step)."""
    for k, v in patch.items():
        if v is None:
            stored.pop(k, None)
            meta.pop(k, None)
        elif isinstance(v, dict) and isinstance(stored.get(k), dict):
            merge_into(stored[k], meta[k], v, now)
            if not stored[k]:  # emptied by nulls: pruned
                del stored[k], meta[k]
        elif isinstance(v, dict):
            value = strip_nulls(v)
            if value:
                stored[k], meta[k] = value, mirror(value, now)
            else:  # nothing left to store for k
                stored.pop(k, None)
                meta.pop(k, None)
        else:  # scalar or array: replaced whole
            stored[k], meta[k] = copy.deepcopy(v), mirror(v, now)


def delta_of(desired: dict | None, reported: dict | None) -> dict | None:
    """§4.1: what desired says that reported does not (only the differing leaves, with their paths)."""
    if desired is None:
        return None
    if reported is None:
        return copy.deepcopy(desired) or None

    def walk(d: dict, r: dict) -> dict:
        out = {}
        for k, v in d.items():
            if k not in r:
                out[k] = copy.deepcopy(v)
            elif isinstance(v, dict) and isinstance(r[k], dict):
                sub = walk(v, r[k])
                if sub:
                    out[k] = sub
            elif not json_equal(v, r[k]):
                out[k] = copy.deepcopy(v)
        return out

    return walk(desired, reported) or None


def restrict(meta, value):
    """Desired's metadata restricted to the paths of a delta."""
    if isinstance(value, dict):
        return {k: restrict(meta[k], v) for k, v in value.items()}
    return copy.deepcopy(meta)


def compact_size(value: dict | None) -> int:
    return 0 if value is None else len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


@dataclass
class Shadow:
    version: int
    state: dict = field(default_factory=dict)  # "desired"/"reported" -> object (absent when empty)
    metadata: dict = field(default_factory=dict)

    def document(self) -> dict:
        return {"state": copy.deepcopy(self.state), "metadata": copy.deepcopy(self.metadata), "version": self.version}

    def delta(self) -> dict | None:
        return delta_of(self.state.get("desired"), self.state.get("reported"))

    def size(self) -> int:
        return sum(compact_size(self.state.get(section)) for section in SECTIONS)


@dataclass
class Outcome:
    """What the service answers: an error document, or the reply plus the update's delta and documents."""

    error: dict | None = None
    reply: dict | None = None
    delta: dict | None = None
    documents: dict | None = None


def with_token(document: dict, token: str | None) -> dict:
    return {**document, "clientToken": token} if token is not None else document


class Model:
    """Every shadow of the service, keyed by (thing, name or None)."""

    def __init__(self, size_limit: int = SIZE_LIMIT):
        self.size_limit = size_limit
        self.shadows: dict[tuple[str, str | None], Shadow] = {}
        self.tombstones: dict[tuple[str, str | None], int] = {}  # the version a deleted shadow consumed

    @staticmethod
    def missing(key, token: str | None) -> dict:
        """404: a classic shadow is named by its thing, a named one by its name."""
        return Rejected(404, f"No shadow exists with name: '{key[1] if key[1] is not None else key[0]}'", token).document()

    def validate(self, key, payload: bytes) -> tuple[dict, str | None]:
        """§3.1 steps 1-11; returns (request, clientToken) or raises Rejected."""
        request = parse_object(payload)
        token = request.get("clientToken")
        if "clientToken" in request and not (isinstance(token, str) and len(token.encode()) <= TOKEN_BYTES):
            raise Rejected(400, "Invalid clientToken")
        if "state" not in request:
            raise Rejected(400, "Missing required node: state", token)
        state = request["state"]
        if state is not None and not isinstance(state, dict):
            raise Rejected(400, "State node must be an object", token)
        state = state or {}
        for k in state:
            if k not in SECTIONS:
                raise Rejected(400, f"State contains an invalid node: '{k}'", token)
        for section in SECTIONS:
            if section in state and state[section] is not None and not isinstance(state[section], dict):
                raise Rejected(400, f"{section.capitalize()} node must be an object", token)
        if "version" in request:
            version = request["version"]
            if not (isinstance(version, int) and not isinstance(version, bool) and version >= 0):
                raise Rejected(400, "Invalid version", token)
        for section in SECTIONS:
            if isinstance(state.get(section), dict) and depth(state[section]) > MAX_DEPTH:
                raise Rejected(400, "JSON contains too many levels of nesting; maximum is 6", token)
        if any(has_null_in_array(state.get(section)) for section in SECTIONS):
            raise Rejected(400, "Invalid JSON", token)
        if "version" in request:
            current = self.shadows.get(key)
            if current is None or current.version != request["version"]:
                raise Rejected(409, "Version conflict", token)
        return request, token

    def merged(self, key, request: dict, now: int) -> Shadow:
        """The shadow after applying a valid request (not stored)."""
        current = self.shadows.get(key)
        version = current.version if current else self.tombstones.get(key, 0)
        shadow = Shadow(version + 1, copy.deepcopy(current.state) if current else {}, copy.deepcopy(current.metadata) if current else {})
        state = request["state"]
        if state is None:
            shadow.state, shadow.metadata = {}, {}
            return shadow
        for section in SECTIONS:
            if section not in state:
                continue
            if state[section] is None:
                shadow.state.pop(section, None)
                shadow.metadata.pop(section, None)
                continue
            stored = shadow.state.get(section, {})
            meta = shadow.metadata.get(section, {})
            merge_into(stored, meta, state[section], now)
            if stored:
                shadow.state[section], shadow.metadata[section] = stored, meta
            else:
                shadow.state.pop(section, None)
                shadow.metadata.pop(section, None)
        return shadow

    def size_after(self, key, payload: bytes) -> int | None:
        """The state size an update would produce, or None if it is rejected before the merge."""
        try:
            request, _ = self.validate(key, payload)
        except Rejected:
            return None
        return self.merged(key, request, 0).size()

    def update(self, key, payload: bytes, now: int) -> Outcome:
        try:
            request, token = self.validate(key, payload)
            shadow = self.merged(key, request, now)
            if shadow.size() > self.size_limit:
                raise Rejected(413, "The payload exceeds the maximum size allowed", token)
        except Rejected as rejected:
            return Outcome(error=rejected.document())
        previous = self.shadows.get(key)
        self.shadows[key] = shadow
        self.tombstones.pop(key, None)
        state = request["state"]
        accepted = {
            "state": copy.deepcopy(state),
            "metadata": {"timestamp": now} if state is None else mirror(state, now),
            "version": shadow.version,
            "timestamp": now,
        }
        delta = shadow.delta()
        delta_document = None
        if delta is not None:
            delta_document = with_token(
                {"state": delta, "metadata": restrict(shadow.metadata["desired"], delta), "version": shadow.version, "timestamp": now},
                token,
            )
        documents = {"current": shadow.document(), "timestamp": now}
        if previous is not None:
            documents = {"previous": previous.document(), **documents}
        return Outcome(reply=with_token(accepted, token), delta=delta_document, documents=with_token(documents, token))

    def get(self, key, token: str | None, now: int) -> Outcome:
        shadow = self.shadows.get(key)
        if shadow is None:
            return Outcome(error=self.missing(key, token))
        state = copy.deepcopy(shadow.state)
        if (delta := shadow.delta()) is not None:
            state["delta"] = delta
        document = {"state": state, "metadata": copy.deepcopy(shadow.metadata), "version": shadow.version, "timestamp": now}
        return Outcome(reply=with_token(document, token))

    def delete(self, key, token: str | None, now: int) -> Outcome:
        shadow = self.shadows.pop(key, None)
        if shadow is None:
            return Outcome(error=self.missing(key, token))
        self.tombstones[key] = shadow.version + 1  # deleting consumes a version number (V23)
        return Outcome(reply=with_token({"version": shadow.version, "timestamp": now}, token))

    def named(self, thing: str) -> list[str]:
        return sorted(name for t, name in self.shadows if t == thing and name is not None)

    def listing(self, thing: str | None = None) -> list[dict]:
        keys = sorted((k for k in self.shadows if thing is None or k[0] == thing), key=lambda k: (k[0], k[1] is not None, k[1] or ""))
        return [{"thing": t, "name": n, "version": self.shadows[(t, n)].version} for t, n in keys]


def publications(prefix: str, operation: str, outcome: Outcome) -> list[tuple[str, dict]]:
    """(topic, document) of everything the service publishes for an MQTT request, the reply first."""
    if outcome.error is not None:
        return [(f"{prefix}/{operation}/rejected", outcome.error)]
    out = [(f"{prefix}/{operation}/accepted", outcome.reply)]
    if outcome.delta is not None:
        out.append((f"{prefix}/update/delta", outcome.delta))
    if outcome.documents is not None:
        out.append((f"{prefix}/update/documents", outcome.documents))
    return out


def client_token(payload: bytes) -> str | None:
    """The clientToken of a get/delete payload (empty, or an object with an optional token)."""
    try:
        document = json.loads(payload) if payload else {}
    except ValueError:
        return None
    token = document.get("clientToken") if isinstance(document, dict) else None
    return token if isinstance(token, str) else None


REQUEST_TOPIC = re.compile(r"^\$aws/things/([^/]+)/shadow(?:/name/([^/]+))?/(get|update|delete)$")


class ModelService:
    """The model behind Moss's interfaces (MQTT topics, the admin API), for the offline self-check and stand-ins."""

    def __init__(self, clock=lambda: int(time.time()), size_limit: int = SIZE_LIMIT):
        self.model = Model(size_limit)
        self.clock = clock

    def mqtt(self, topic: str, payload: bytes) -> list[tuple[str, dict]]:
        m = REQUEST_TOPIC.match(topic)
        if not m:
            return []
        thing, name, operation = m.groups()
        key, now = (thing, name), self.clock()
        if operation == "update":
            outcome = self.model.update(key, payload, now)
        else:
            outcome = getattr(self.model, operation)(key, client_token(payload), now)
        return publications(topic.rsplit("/", 1)[0], operation, outcome)

    def http(self, method: str, target: str, body: bytes | None) -> tuple[int, dict, dict, list[tuple[str, dict]]]:
        """(status, headers, body document, MQTT publications) of an admin API request."""
        url = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        parts = [unquote(p) for p in url.path.split("/")]
        now = self.clock()

        def error(code: int, message: str):
            return code, {"x-amzn-ErrorType": ERROR_TYPES[code]}, {"message": message}, []

        if len(parts) == 5 and parts[:3] == ["", "v1", "things"] and parts[4] == "shadow":
            thing, name = parts[3], query.get("name")
            if not THING_NAME.fullmatch(thing):
                return error(400, "ThingName has a maximum length of 128 and must match [a-zA-Z0-9:_-]+")
            if name is not None and not SHADOW_NAME.fullmatch(name):
                return error(400, "ShadowName has a maximum length of 64 and must match [$a-zA-Z0-9:_-]+")
            key = (thing, name)
            prefix = shadow_prefix(thing, name)
            if method == "GET":
                outcome = self.model.get(key, None, now)
                published = []
            elif method == "POST":
                outcome = self.model.update(key, body or b"", now)
                published = publications(prefix, "update", outcome) if outcome.error is None else []
            elif method == "DELETE":
                outcome = self.model.delete(key, None, now)
                published = publications(prefix, "delete", outcome) if outcome.error is None else []
            else:
                return error(405, "Method not allowed")
            if outcome.error is not None:
                return error(outcome.error["code"], outcome.error["message"])
            return 200, {}, outcome.reply, published
        if method == "GET" and len(parts) == 7 and parts[:6] == ["", "v1", "api", "things", "shadow", "ListNamedShadowsForThing"]:
            names = self.model.named(parts[6])
            start = int(query.get("nextToken", "0"))
            size = int(query.get("pageSize", "25"))
            if not 1 <= size <= 100:
                return error(400, "pageSize must be between 1 and 100")
            page = {"results": names[start : start + size], "timestamp": now}
            if start + size < len(names):
                page["nextToken"] = str(start + size)
            return 200, {}, page, []
        if method == "GET" and url.path == "/v1/shadows":
            return 200, {}, {"shadows": self.model.listing(query.get("thing"))}, []
        return error(405, "Method not allowed") if url.path.startswith("/v1/things/") else (404, {}, {"message": "Not found"}, [])


# MARK: The model against the spec's vectors (no daemon)

VECTORS = load_vectors()


@pytest.mark.parametrize("vector", VECTORS, ids=[vector["id"] for vector in VECTORS])
def test_the_model_passes_the_spec_vectors(vector):
    clock = [1_700_000_000]
    service = ModelService(clock=lambda: clock[0])
    bindings = Bindings()
    for number, step in enumerate(vector["steps"], 1):
        where = f"{vector['id']} step {number}"
        if step["label"]:
            clock[0] += 1  # a labelled step happens in a later second
        payload = step["payload" if step["kind"] == "publish" else "body"]
        payload = None if payload is None else payload.encode()
        if step["kind"] == "publish":
            prefix = step["topic"].rsplit("/", 1)[0]
            published = service.mqtt(step["topic"], payload or b"")
            topics = [topic for topic, _ in published]
            assert sorted(topics) == sorted(f"{prefix}/{e['suffix']}" for e in step["expect"]), where
            for expected in step["expect"]:
                document = dict(published)[f"{prefix}/{expected['suffix']}"]
                assert_matches(expected["document"], document, bindings=bindings, error="rejected" in expected["suffix"], what=where)
        else:
            status, headers, document, _ = service.http(step["method"], "/v1" + step["path"], payload)
            assert status == step["status"], where
            assert_matches(step["response"], document, bindings=bindings, error=status >= 400, what=where)
    assert not bindings.order_problems()


def test_the_model_prunes_and_merges_as_chosen():
    """Spot checks of the chosen behaviours the vectors do not pin down."""
    model = Model()
    key = ("t", None)
    assert model.update(key, b'{"state":{"desired":{"a":{"b":1}}}}', 1).error is None
    model.update(key, b'{"state":{"desired":{"a":{"b":null}}}}', 2)
    assert model.shadows[key].state == {}  # the emptied object and then the empty section are pruned
    model.update(key, b'{"state":{"desired":{}, "reported":{"x":{}}}}', 3)
    assert model.shadows[key].state == {} and model.shadows[key].version == 3
    model.update(key, b'{"state":{"desired":{"n":1},"reported":{"n":1.0}}}', 4)
    assert model.shadows[key].delta() is None  # 1 == 1.0
    assert model.update(key, b'{"state":{"reported":{"a":1,"a":2}}}', 5).reply["state"] == {"reported": {"a": 2}}
    assert model.update(("u", None), b'{"state":{},"version":0}', 6).error["code"] == 409
    model.update(key, b'{"state":{"reported":{"s":5,"t":[1],"o":{"k":1}}}}', 7)
    model.update(key, b'{"state":{"reported":{"s":{},"t":{"z":null},"o":{}}}}', 8)
    assert model.shadows[key].state["reported"] == {"a": 2, "n": 1.0, "o": {"k": 1}}  # s and t replaced by nothing
    assert model.update(key, b'{"state":{"reported":{"l":[{"b":null}]}}}', 9).error["message"] == "Invalid JSON"


# MARK: Random sequences

KEYS = ["a", "b", "c", "mode", "timestamp", "ü"]
SUBKEYS = ["x", "y", "z", "w"]
STRINGS = ["on", "off", "red", "", "é✓ ünïcode", 'say "hi" \\ / x']
BASE = 1  # levels: the section object is level 1


def random_leaf(rng: random.Random):
    r = rng.random()
    if r < 0.35:
        return rng.randint(-3, 3)
    if r < 0.45:
        return rng.choice([0.5, 2.25, -1.5, 1.0, 3.0])
    if r < 0.6:
        return rng.random() < 0.5
    return rng.choice(STRINGS)


def random_array(rng: random.Random, level: int) -> list:
    def element():
        if level <= 3 and rng.random() < 0.25:  # objects in arrays are kept as sent, even empty ones
            return {k: random_leaf(rng) for k in rng.sample(SUBKEYS, rng.randint(0, 2))}
        return random_leaf(rng)

    return [element() for _ in range(rng.randint(0, 3))]


def random_value(rng: random.Random, level: int, nulls: bool = True):
    """A value inside an object at `level`: a leaf, null, a nested object or an array."""
    r = rng.random()
    if nulls and r < 0.15:
        return None
    if r < 0.32 and level <= 3:
        return random_object(rng, level + 1, nulls)
    if r < 0.42:
        return random_array(rng, level + 1)
    return random_leaf(rng)


def random_object(rng: random.Random, level: int, nulls: bool = True) -> dict:
    keys = KEYS if level == BASE else SUBKEYS
    return {k: random_value(rng, level, nulls) for k in rng.sample(keys, rng.randint(0 if level > BASE else 1, 3))}


def numeric_twin(value):
    """The same JSON value with integers written as floats (1 -> 1.0): equal for the delta."""
    if isinstance(value, dict):
        return {k: numeric_twin(v) for k, v in value.items()}
    if isinstance(value, list):
        return [numeric_twin(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def too_deep(rng: random.Random) -> dict:
    """A section one level deeper than allowed (§3.5): an object, or an array, as the value of the 6th key."""
    value = rng.choice([{"l7": "x"}, [1]])
    for level in range(6, 0, -1):
        value = {f"l{level}": value}
    return value


@dataclass
class Operation:
    kind: str  # update, get, delete
    key: tuple[str, str | None]
    payload: bytes = b""
    token: str | None = None


class Generator:
    def __init__(self, seed: int, model: Model):
        self.rng = random.Random(seed)
        self.seed = seed
        self.model = model
        rng = self.rng
        self.things = [unique(f"prop{seed}") for _ in range(rng.randint(2, 3))]
        self.keys = [(thing, None) for thing in self.things]
        for thing in self.things:
            self.keys += [(thing, name) for name in rng.sample(["cfg", "ota", "nm-1"], rng.randint(1, 2))]
        self.count = 0

    def next(self) -> Operation:
        self.count += 1
        for _ in range(50):
            operation = self._candidate()
            if operation.kind != "update":
                return operation
            size = self.model.size_after(operation.key, operation.payload)
            # Byte accounting near the limit is unsettled (spec §3.6): keep a wide margin.
            if size is None or abs(size - SIZE_LIMIT) > 512:
                return operation
        return Operation("get", operation.key)

    def _token(self) -> str | None:
        rng = self.rng
        if rng.random() < 0.5:
            return None
        return rng.choice([f"tok-{self.seed}-{self.count}", f"jeton-é-{self.count}", "x" * 64])

    def _candidate(self) -> Operation:
        rng = self.rng
        key = rng.choice(self.keys)
        r = rng.random()
        if r < 0.18:
            return Operation("get", key, token=self._token())
        if r < 0.24:
            return Operation("delete", key, token=self._token())
        shadow = self.model.shadows.get(key)
        stored = shadow.state if shadow else {}
        request: dict = {}
        r = rng.random()
        if r < 0.03:
            request["state"] = None
        elif r < 0.06:
            request["state"] = {}
        elif r < 0.10:
            request["state"] = {rng.choice(SECTIONS): None}
        elif r < 0.13:
            request["state"] = rng.choice(
                [
                    "on",
                    [1],
                    {"delta": {"a": 1}},
                    {"desired": 5},
                    {"reported": {"a": [None]}},
                    {"reported": {"a": [{"b": None}]}},
                    {"desired": too_deep(rng)},
                ]
            )
        elif r < 0.16:
            # A big value: some updates cross the size limit, some fit.
            request["state"] = {rng.choice(SECTIONS): {rng.choice(KEYS): "p" * rng.choice([1500, 3000, 5000, 7000, 9500])}}
        else:
            state = {}
            for section in SECTIONS:
                if rng.random() < 0.6:
                    continue
                if section == "reported" and stored.get("desired") and rng.random() < 0.5:
                    # Report (part of) what is desired, sometimes with 1 written as 1.0: deltas shrink and vanish.
                    desired = stored["desired"]
                    picked = {k: desired[k] for k in rng.sample(sorted(desired), rng.randint(1, len(desired)))}
                    state[section] = numeric_twin(picked) if rng.random() < 0.3 else copy.deepcopy(picked)
                elif rng.random() < 0.05:
                    state[section] = {}
                else:
                    state[section] = random_object(rng, BASE)
            if not state:
                state[rng.choice(SECTIONS)] = random_object(rng, BASE)
            request["state"] = state
        if rng.random() < 0.3:
            current = shadow.version if shadow else 0
            request["version"] = rng.choice([current, current, current + 1, max(current - 1, 0)])
        if rng.random() < 0.04:
            request["version"] = rng.choice(["1", -1, 1.5, True])
        token = self._token()
        if token is not None:
            request["clientToken"] = token
        if rng.random() < 0.05:
            request["clientToken"] = rng.choice(["y" * 65, 7])
        if rng.random() < 0.1:
            request["ignored"] = {"top": "level"}
        items = list(request.items())
        rng.shuffle(items)
        spaced = rng.random() < 0.3
        text = json.dumps(dict(items), ensure_ascii=rng.random() < 0.5, separators=(", ", ": ") if spaced else (",", ":"))
        return Operation("update", key, text.encode(), token)


class Clock:
    """Checks that update times are plausible: integers, near the wall clock, never going back."""

    def __init__(self):
        self.last = 0

    def update_time(self, document, what: str) -> int:
        now = document.get("timestamp") if isinstance(document, dict) else None
        assert isinstance(now, int) and not isinstance(now, bool), f"{what}: timestamp {now!r} is not an integer"
        assert abs(now - time.time()) < 30, f"{what}: timestamp {now} is far from the wall clock"
        assert now >= self.last, f"{what}: timestamp {now} is before an earlier update's {self.last}"
        self.last = now
        return now


def any_time(document: dict) -> dict:
    """A GET or DELETE reply's top-level time is when it was generated: any value."""
    return {**document, "timestamp": "TS"}


def run_over_mqtt(operation: Operation, model: Model, mqtt: ShadowClient, clock: Clock, where: str) -> None:
    thing, name = operation.key
    prefix = shadow_prefix(thing, name)
    if operation.kind == "update":
        mqtt.publish(f"{prefix}/update", operation.payload)
        reply = mqtt.take_any([f"{prefix}/update/accepted", f"{prefix}/update/rejected"])
        accepted = reply.topic.endswith("/accepted")
        now = clock.update_time(reply.json(), where) if accepted else 0
        expected = publications(prefix, "update", model.update(operation.key, operation.payload, now))
    else:
        payload = json.dumps({"clientToken": operation.token}).encode() if operation.token is not None else b""
        mqtt.publish(f"{prefix}/{operation.kind}", payload)
        reply = mqtt.take_any([f"{prefix}/{operation.kind}/accepted", f"{prefix}/{operation.kind}/rejected"])
        outcome = getattr(model, operation.kind)(operation.key, operation.token, 0)
        expected = publications(prefix, operation.kind, outcome)
        if outcome.reply is not None:
            expected[0] = (expected[0][0], any_time(outcome.reply))
    first_topic, first_document = expected[0]
    assert reply.topic == first_topic, (
        f"{where}: the service answered on {reply.topic} with {reply.payload[:300]!r}; the model expects "
        f"{first_topic} with {json.dumps(first_document)[:300]}"
    )
    assert_matches(first_document, reply.json(), error=first_topic.endswith("/rejected"), what=f"{where}: {first_topic}")
    for topic, document in expected[1:]:
        assert_matches(document, mqtt.take(topic).json(), what=f"{where}: {topic}")
    mqtt.assert_quiet(thing)


def run_over_rest(operation: Operation, model: Model, admin: AdminAPI, mqtt: ShadowClient, clock: Clock, where: str) -> None:
    thing, name = operation.key
    prefix = shadow_prefix(thing, name)
    if operation.kind == "update":
        reply = admin.update_shadow(thing, operation.payload, name)
        now = clock.update_time(reply.json(), where) if reply.status == 200 else 0
        outcome = model.update(operation.key, operation.payload, now)
    elif operation.kind == "get":
        reply = admin.get_shadow(thing, name)
        outcome = model.get(operation.key, None, 0)
    else:
        reply = admin.delete_shadow(thing, name)
        outcome = model.delete(operation.key, None, 0)
    if outcome.error is not None:
        assert_rest_error(reply, outcome.error["code"], outcome.error["message"], what=where)
        mqtt.assert_quiet(thing)  # REST errors are not published
        return
    assert reply.status == 200, f"{where}: HTTP {reply.status} {reply.body[:300]!r}; the model accepts it"
    expected = outcome.reply if operation.kind == "update" else any_time(outcome.reply)
    assert_matches(expected, reply.json(), what=where)
    if operation.kind != "get":  # a REST update or delete is published like an MQTT one; a GET is not
        published = publications(prefix, operation.kind, outcome)
        published[0] = (published[0][0], reply.json())
        for topic, document in published:
            assert_matches(document, mqtt.take(topic).json(), what=f"{where}: {topic}")
    mqtt.assert_quiet(thing)


def check_final_state(model: Model, generator: Generator, admin: AdminAPI) -> None:
    """Every shadow and the listings agree with the model at the end of a sequence."""
    for thing, name in generator.keys:
        reply = admin.get_shadow(thing, name)
        outcome = model.get((thing, name), None, 0)
        if outcome.error is not None:
            assert_rest_error(reply, 404, outcome.error["message"], what=f"final GET {thing}/{name}")
        else:
            assert reply.status == 200, reply.body
            assert_matches(any_time(outcome.reply), reply.json(), what=f"final GET {thing}/{name}")
    for thing in generator.things:
        listed = admin.list_shadows(thing)
        assert listed.status == 200, listed.body
        assert listed.json() == {"shadows": model.listing(thing)}
        named = admin.list_named(thing)
        assert named.status == 200, named.body
        assert_matches({"results": model.named(thing), "timestamp": "TS"}, named.json(), what=f"named shadows of {thing}")


# Moss's choices where the spec leaves a question open (docs/shadows.md), as fixed sequences on one shadow.
CHOSEN = {
    "emptied-object-is-pruned": [
        '{"state":{"desired":{"a":{"b":1},"c":2}}}',
        '{"state":{"desired":{"a":{"b":null}}}}',
        '{"state":{"desired":{"c":null}}}',
    ],
    "empty-section-patch-is-a-no-op": ['{"state":{"reported":{"a":1}}}', '{"state":{"reported":{},"desired":{}}}'],
    "empty-object-value-stores-nothing": [
        '{"state":{"reported":{"a":{},"b":{"c":{}},"d":1,"o":{"k":1}}}}',
        '{"state":{"reported":{"a":{"x":{}},"o":{}}}}',
        '{"state":{"reported":{"d":{},"o":{"k":{"z":null}}}}}',
    ],
    "objects-in-arrays-are-kept-as-sent": ['{"state":{"desired":{"l":[{},{"a":1},[]]},"reported":{"l":[{},{"a":1.0},[]]}}}'],
    "version-on-a-missing-shadow-is-409": ['{"state":{"reported":{"a":1}},"version":0}', '{"state":{"reported":{"a":1}},"version":1}'],
    "one-equals-one-point-zero": ['{"state":{"desired":{"n":1,"l":[1,2.5]}}}', '{"state":{"reported":{"n":1.0,"l":[1.0,2.5]}}}'],
    "true-is-not-one": ['{"state":{"desired":{"n":1}}}', '{"state":{"reported":{"n":true}}}'],
    "duplicate-keys-last-wins": ['{"state":{"reported":{"a":1,"a":{"b":2}}},"clientToken":"x","clientToken":"dup"}'],
    "state-null-then-recreate-after-delete": [
        '{"state":{"desired":{"a":1}}}',
        '{"state":null}',
        "DELETE",
        '{"state":{"reported":{"a":1}},"version":2}',
        '{"state":{"reported":{"a":1}}}',
    ],
}


@pytest.mark.parametrize("steps", CHOSEN.values(), ids=CHOSEN.keys())
def test_chosen_behaviours_over_mqtt(steps, mqtt: ShadowClient):
    thing = unique("chosen")
    mqtt.watch(thing)
    model, clock = Model(), Clock()
    for number, step in enumerate(steps):
        operation = Operation("delete", (thing, None)) if step == "DELETE" else Operation("update", (thing, None), step.encode())
        run_over_mqtt(operation, model, mqtt, clock, f"step {number}: {step}")
        run_over_mqtt(Operation("get", (thing, None)), model, mqtt, clock, f"GET after step {number}")


@pytest.mark.parametrize("seed", range(SEEDS), ids=[f"seed{seed}" for seed in range(SEEDS)])
def test_random_sequences_over_mqtt(seed, mqtt: ShadowClient, admin: AdminAPI):
    model = Model()
    generator = Generator(seed, model)
    mqtt.watch(*generator.things)
    clock = Clock()
    for step in range(OPERATIONS):
        operation = generator.next()
        where = f"seed {seed} op {step} ({operation.kind} {operation.key} {operation.payload[:200]!r} token={operation.token!r})"
        run_over_mqtt(operation, model, mqtt, clock, where)
    check_final_state(model, generator, admin)


@pytest.mark.parametrize("seed", range(SEEDS), ids=[f"seed{seed}" for seed in range(SEEDS)])
def test_random_sequences_over_rest(seed, mqtt: ShadowClient, admin: AdminAPI):
    model = Model()
    generator = Generator(1000 + seed, model)
    mqtt.watch(*generator.things)
    clock = Clock()
    for step in range(OPERATIONS):
        operation = generator.next()
        where = f"seed {1000 + seed} op {step} ({operation.kind} {operation.key} {operation.payload[:200]!r})"
        run_over_rest(operation, model, admin, mqtt, clock, where)
    check_final_state(model, generator, admin)
