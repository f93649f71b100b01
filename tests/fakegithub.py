"""A fake GitHub REST API on loopback, shared by every integration test and the benchmark.

``FakeGitHub`` is a real aiohttp server on 127.0.0.1 that keeps state (installations,
repositories, issues, labels, comments, files, permissions, teams, webhook deliveries)
and serves it under a path prefix (``/api/v3``), so a bot that ignores the path of
``GITHUB_API_URL`` fails. Every request is checked against GitHub's published OpenAPI
description (npm ``@octokit/openapi``): a method and path it does not describe, a
parameter of the wrong type, or a JSON body that its schema rejects is recorded in
``fake.violations``, and the ``fake_github`` fixture fails the test at teardown.

It also behaves like GitHub where a bot can get it wrong: App JWTs and installation
tokens that expire, ETags and ``304``s that cost nothing against the primary rate
limit, rate-limit headers, ``Link`` pagination, and seeded fault injection (``502``s,
held requests, secondary rate limits whose ``retry-after`` window is watched).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import math
import os
import random
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, unquote, urlencode

import aiohttp
import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jsonschema import Draft4Validator, FormatChecker  # type: ignore[import-untyped]
from multidict import MultiMapping

Json = Any
JsonDict = dict[str, Any]

log = logging.getLogger(__name__)

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
OPENAPI_RELPATH: Final = Path("node_modules/@octokit/openapi/generated/api.github.com.json")
WEBHOOKS_RELPATH: Final = Path("node_modules/@octokit/webhooks-examples/api.github.com/index.json")

DEFAULT_APP_ID: Final = 4242
DEFAULT_APP_SLUG: Final = "event-support-bot"
DEFAULT_WEBHOOK_SECRET: Final = "test-secret"
API_PREFIX: Final = "/api/v3"
HTML_BASE: Final = "https://github.com"
MAX_BODY_CHARS: Final = 65536  # GitHub refuses issue and comment bodies longer than this
SECONDARY_LIMIT_MESSAGE: Final = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
    "again. If you reach out to GitHub Support for help, please include the request ID "
    "FAKE:0000:0000."
)
API_VERSIONS: Final = ("2022-11-28", "2026-03-10")  # what X-GitHub-Api-Version may say
PERMISSION_LEVELS: Final = ("admin", "maintain", "write", "triage", "read", "none")


# --------------------------------------------------------------------------------------
# Fixture files from npm
# --------------------------------------------------------------------------------------


class FixturesUnavailable(RuntimeError):
    """GitHub's API description or webhook examples could not be had."""


@dataclass(frozen=True)
class FixturePaths:
    """Where scripts/fetch-fixtures installed the npm packages."""

    root: Path

    @property
    def openapi(self) -> Path:
        return self.root / OPENAPI_RELPATH

    @property
    def webhooks(self) -> Path:
        return self.root / WEBHOOKS_RELPATH


def fixtures_dir() -> Path:
    """``FIXTURES_DIR`` if set, else ``.fixtures`` at the repository root."""
    override = os.environ.get("FIXTURES_DIR")
    return Path(override) if override else REPO_ROOT / ".fixtures"


def ensure_fixtures() -> FixturePaths:
    """Return the fixture files, running scripts/fetch-fixtures first if they are missing."""
    paths = FixturePaths(fixtures_dir())
    if paths.openapi.is_file() and paths.webhooks.is_file():
        return paths
    if shutil.which("npm") is None:
        raise FixturesUnavailable(
            f"GitHub's OpenAPI description and webhook examples are not in {paths.root} "
            "and npm is not installed to fetch them: install Node.js and npm, then run "
            "`bash scripts/fetch-fixtures` (or set FIXTURES_DIR to where they are)"
        )
    script = REPO_ROOT / "scripts" / "fetch-fixtures"
    result = subprocess.run(
        ["bash", str(script)],
        env={**os.environ, "FIXTURES_DIR": str(paths.root)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0 or not (paths.openapi.is_file() and paths.webhooks.is_file()):
        raise FixturesUnavailable(
            f"scripts/fetch-fixtures failed (exit {result.returncode}):\n"
            f"{(result.stdout + result.stderr)[-3000:]}"
        )
    return paths


# --------------------------------------------------------------------------------------
# The OpenAPI description: matching requests and validating them
# --------------------------------------------------------------------------------------

# Keywords that jsonschema does not need; dropping them keeps compiled schemas small.
_DROPPED_KEYWORDS: Final = frozenset(
    {"description", "example", "examples", "externalDocs", "discriminator", "readOnly",
     "writeOnly", "xml", "deprecated", "title"}
)
_SCHEMA_MAPS: Final = frozenset({"properties", "patternProperties"})
_LITERAL_KEYWORDS: Final = frozenset({"enum", "default", "required", "const"})
_HTTP_METHODS: Final = frozenset({"get", "put", "post", "patch", "delete", "head", "options"})


def _date_time_ok(value: object) -> bool:
    # RFC 3339 as GitHub takes it: a date, a time and a zone ("Z" or an offset).
    if not isinstance(value, str):
        return True
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return "T" in value.upper() and parsed.tzinfo is not None


_FORMATS = FormatChecker(formats=())
_FORMATS.checks("date-time")(_date_time_ok)


def _escape_pointer(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


class _SchemaConverter:
    """Turns OpenAPI 3.0 schemas into JSON Schema (draft 4) that jsonschema validates.

    OpenAPI 3.0 differs from draft 4 mainly in ``nullable`` and in where ``$ref`` points;
    component schemas become ``definitions`` of each compiled document.
    """

    def __init__(self, schemas: Mapping[str, Json]) -> None:
        self._schemas = schemas
        self._memo: dict[str, tuple[Json, frozenset[str]]] = {}

    def compile(self, schema: Json) -> Draft4Validator:
        refs: set[str] = set()
        root = self._convert(schema, refs)
        definitions: JsonDict = {}
        pending = list(refs)
        while pending:
            name = pending.pop()
            if name in definitions:
                continue
            converted, inner = self._component(name)
            definitions[name] = converted
            pending.extend(inner - definitions.keys())
        document: JsonDict = {"allOf": [root], "definitions": definitions}
        return Draft4Validator(document, format_checker=_FORMATS)

    def _component(self, name: str) -> tuple[Json, frozenset[str]]:
        if name not in self._memo:
            if name not in self._schemas:
                raise KeyError(f"the OpenAPI description has no schema {name!r}")
            refs: set[str] = set()
            converted = self._convert(self._schemas[name], refs)
            self._memo[name] = (converted, frozenset(refs))
        return self._memo[name]

    def _convert(self, node: Json, refs: set[str]) -> Json:
        if isinstance(node, list):
            return [self._convert(item, refs) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref.removeprefix("#/components/schemas/")
            if name == ref:
                raise ValueError(f"unsupported $ref {ref!r} in a schema")
            refs.add(name)
            return {"$ref": "#/definitions/" + _escape_pointer(name)}
        out: JsonDict = {}
        for key, value in node.items():
            if key in _DROPPED_KEYWORDS or key.startswith("x-"):
                continue
            if key in _SCHEMA_MAPS and isinstance(value, dict):
                out[key] = {prop: self._convert(sub, refs) for prop, sub in value.items()}
            elif key in _LITERAL_KEYWORDS:
                out[key] = value
            else:
                out[key] = self._convert(value, refs)
        if out.pop("nullable", False) is not True:
            return out
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
            if isinstance(out.get("enum"), list) and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
            return out
        return {"anyOf": [{"type": "null"}, out]}


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # "path", "query" or "header"
    required: bool
    schema: Json


@dataclass(frozen=True)
class Operation:
    """One method on one path of the description."""

    method: str
    template: str
    operation_id: str
    path_params: Mapping[str, Parameter]
    query_params: Mapping[str, Parameter]
    body_required: bool
    body_media_types: tuple[str, ...]  # empty: the operation takes no body
    body_schema: Json | None  # the application/json schema, if any
    responses: Mapping[str, Json]


@dataclass(frozen=True)
class _Route:
    template: str
    regex: re.Pattern[str]
    param_names: tuple[str, ...]
    rank: tuple[int, ...]
    methods: Mapping[str, JsonDict]


@dataclass(frozen=True)
class RequestCheck:
    """What the description says about one request: its operation, or what is wrong."""

    operation: Operation | None
    path_params: Mapping[str, str]
    query: Mapping[str, Json]  # query values coerced to their schema types
    body: Json
    problem: str | None
    status: int  # the answer for a problem: 404 undocumented, 400 invalid


def _coerce(values: list[str], schema: Json) -> Json:
    """Turn query or path strings into the JSON value the schema describes."""
    kind = schema.get("type") if isinstance(schema, dict) else None
    if kind == "array":
        items = schema.get("items", {})
        parts = [part for value in values for part in value.split(",")]
        return [_coerce([part], items) for part in parts]
    if len(values) != 1:
        raise ValueError("given more than once")
    value = values[0]
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", value):
            raise ValueError(f"{value!r} is not an integer")
        return int(value)
    if kind == "number":
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
    if kind == "boolean":
        if value not in ("true", "false"):
            raise ValueError(f"{value!r} is not true or false")
        return value == "true"
    return value


class OpenApiSpec:
    """GitHub's REST API description, loaded and indexed once, with cached validators."""

    _shared: dict[Path, OpenApiSpec] = {}

    def __init__(self, path: Path) -> None:
        self.path = path
        self._document: JsonDict | None = None
        self._routes: dict[str, list[_Route]] = {}
        self._converter: _SchemaConverter | None = None
        self._operations: dict[tuple[str, str], Operation] = {}
        self._match_cache: dict[tuple[str, str], tuple[Operation, dict[str, str]] | str] = {}
        self._validators: dict[tuple[str, ...], Draft4Validator | None] = {}

    @classmethod
    def shared(cls, path: Path | None = None) -> OpenApiSpec:
        """The one instance for this file in this process (fetching the fixtures if needed)."""
        resolved = (path or ensure_fixtures().openapi).resolve()
        if resolved not in cls._shared:
            cls._shared[resolved] = cls(resolved)
        return cls._shared[resolved]

    # ---- loading and indexing (lazily, on first use) ----

    @property
    def document(self) -> JsonDict:
        if self._document is None:
            with self.path.open("rb") as handle:
                document: JsonDict = json.load(handle)
            self._index(document)
            self._converter = _SchemaConverter(document.get("components", {}).get("schemas", {}))
            self._document = document
        return self._document

    def _index(self, document: JsonDict) -> None:
        for template, item in document["paths"].items():
            segments = template.strip("/").split("/")
            pattern = ""
            names: list[str] = []
            rank: list[int] = []
            multi = self._multi_segment_params(item)
            for segment in segments:
                param = re.fullmatch(r"\{([^}]+)\}", segment)
                if param:
                    names.append(param.group(1))
                    pattern += "/(.+)" if param.group(1) in multi else "/([^/]+)"
                    rank.append(1)
                else:
                    pattern += "/" + re.escape(segment)
                    rank.append(0)
            methods = {m.upper(): op for m, op in item.items() if m in _HTTP_METHODS}
            route = _Route(
                template=template,
                regex=re.compile(pattern),
                param_names=tuple(names),
                # Most literal segments first, then literals earlier: /issues/comments
                # beats /issues/{issue_number}.
                rank=(-rank.count(0), *rank),
                methods=methods,
            )
            first = segments[0] if not segments[0].startswith("{") else "*"
            self._routes.setdefault(first, []).append(route)
        for routes in self._routes.values():
            routes.sort(key=lambda route: route.rank)

    def _multi_segment_params(self, item: JsonDict) -> set[str]:
        names: set[str] = set()
        for method, op in item.items():
            if method not in _HTTP_METHODS:
                continue
            for param in op.get("parameters", []):
                if isinstance(param, dict) and param.get("x-multi-segment"):
                    names.add(str(param.get("name")))
        return names

    def _resolve(self, node: Json) -> Json:
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            target: Json = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def _operation(self, route: _Route, method: str) -> Operation:
        key = (route.template, method)
        if key not in self._operations:
            raw = route.methods[method]
            params = [self._resolve(p) for p in raw.get("parameters", [])]
            body = self._resolve(raw.get("requestBody")) or {}
            content = body.get("content", {}) if isinstance(body, dict) else {}
            json_body = content.get("application/json")
            self._operations[key] = Operation(
                method=method,
                template=route.template,
                operation_id=str(raw.get("operationId")),
                path_params={
                    p["name"]: Parameter(p["name"], "path", True, p.get("schema", {}))
                    for p in params if p.get("in") == "path"
                },
                query_params={
                    p["name"]: Parameter(p["name"], "query", bool(p.get("required")),
                                         p.get("schema", {}))
                    for p in params if p.get("in") == "query"
                },
                body_required=bool(body.get("required")) if isinstance(body, dict) else False,
                body_media_types=tuple(content),
                body_schema=json_body.get("schema") if isinstance(json_body, dict) else None,
                responses=raw.get("responses", {}),
            )
        return self._operations[key]

    # ---- matching ----

    def match(self, method: str, raw_path: str) -> tuple[Operation, dict[str, str]] | str:
        """The operation for METHOD and a percent-encoded path, or why there is none."""
        key = (method, raw_path)
        cached = self._match_cache.get(key)
        if cached is None:
            cached = self._match(method, raw_path)
            if len(self._match_cache) > 50_000:
                self._match_cache.clear()
            self._match_cache[key] = cached
        return cached

    def _match(self, method: str, raw_path: str) -> tuple[Operation, dict[str, str]] | str:
        self.document  # noqa: B018 - loads and indexes on first use
        first = raw_path.strip("/").split("/")[0]
        candidates = self._routes.get(first, []) + self._routes.get("*", [])
        matched_other_method = False
        for route in sorted(candidates, key=lambda route: route.rank):
            found = route.regex.fullmatch(raw_path)
            if found is None:
                continue
            if method not in route.methods:
                matched_other_method = True
                continue
            values = {name: unquote(value) for name, value in zip(
                route.param_names, found.groups(), strict=True)}
            return self._operation(route, method), values
        if matched_other_method:
            return f"the description has no {method} for this path"
        return "the description has no such path"

    # ---- validators ----

    def _compiled(self, key: tuple[str, ...], schema: Json | None) -> Draft4Validator | None:
        if key not in self._validators:
            self.document  # noqa: B018
            assert self._converter is not None
            self._validators[key] = None if schema is None else self._converter.compile(schema)
        return self._validators[key]

    def body_validator(self, operation: Operation) -> Draft4Validator | None:
        return self._compiled(("body", operation.operation_id), operation.body_schema)

    def parameter_validator(self, operation: Operation, param: Parameter) -> Draft4Validator:
        validator = self._compiled(
            ("param", operation.operation_id, param.location, param.name), param.schema)
        assert validator is not None
        return validator

    def response_validator(self, operation: Operation, status: int) -> Draft4Validator | None:
        """The schema of a JSON answer with this status, if the description gives one."""
        response = self._resolve(operation.responses.get(str(status)))
        schema = None
        if isinstance(response, dict):
            media = response.get("content", {}).get("application/json")
            schema = media.get("schema") if isinstance(media, dict) else None
        return self._compiled(("response", operation.operation_id, str(status)), schema)

    def schema_validator(self, component: str) -> Draft4Validator:
        """A validator for ``#/components/schemas/COMPONENT``."""
        validator = self._compiled(
            ("component", component), {"$ref": f"#/components/schemas/{component}"})
        assert validator is not None
        return validator

    # ---- checking a whole request ----

    def check(
        self,
        method: str,
        raw_path: str,
        query: MultiMapping[str],
        content_type: str,
        body: bytes,
    ) -> RequestCheck:
        found = self.match(method, raw_path)
        if isinstance(found, str):
            return RequestCheck(None, {}, {}, None, found, 404)
        operation, path_params = found

        def invalid(problem: str) -> RequestCheck:
            return RequestCheck(operation, path_params, {}, None,
                                f"{operation.operation_id}: {problem}", 400)

        for name, path_param in operation.path_params.items():
            value = path_params.get(name, "")
            if not value:
                return invalid(f"path parameter {name!r} is empty")
            try:
                coerced = _coerce([value], path_param.schema)
            except ValueError as exc:
                return invalid(f"path parameter {name!r}: {exc}")
            error = _first_error(self.parameter_validator(operation, path_param), coerced)
            if error:
                return invalid(f"path parameter {name!r}: {error}")

        coerced_query: dict[str, Json] = {}
        for name in dict.fromkeys(query.keys()):
            param = operation.query_params.get(name)
            if param is None:
                return invalid(f"query parameter {name!r} is not described")
            try:
                coerced_query[name] = _coerce(list(query.getall(name)), param.schema)
            except ValueError as exc:
                return invalid(f"query parameter {name!r}: {exc}")
            error = _first_error(self.parameter_validator(operation, param),
                                 coerced_query[name])
            if error:
                return invalid(f"query parameter {name!r}: {error}")
        for name, param in operation.query_params.items():
            if param.required and name not in coerced_query:
                return invalid(f"required query parameter {name!r} is missing")

        parsed: Json = None
        if not body:
            if operation.body_required:
                return invalid("the request body is required")
        elif not operation.body_media_types:
            return invalid("a body was sent to an operation that takes none")
        else:
            media = content_type.split(";")[0].strip().lower()
            if media != "application/json" or operation.body_schema is None:
                return invalid(f"a body of type {media or 'none'!r} was sent; "
                               f"the operation takes {list(operation.body_media_types)}")
            try:
                parsed = json.loads(body)
            except (ValueError, UnicodeDecodeError) as exc:
                return invalid(f"the body is not JSON ({exc})")
            validator = self.body_validator(operation)
            error = _first_error(validator, parsed) if validator else None
            if error:
                return invalid(f"the body does not match the schema: {error}")
        return RequestCheck(operation, path_params, coerced_query, parsed, None, 200)


def _first_error(validator: Draft4Validator, value: Json) -> str | None:
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    error = errors[0]
    where = "/".join(str(part) for part in error.absolute_path) or "(root)"
    return f"at {where}: {error.message[:300]}"


# --------------------------------------------------------------------------------------
# Webhook signing (shared with tests/payloads.py and used for redeliveries)
# --------------------------------------------------------------------------------------


def sign_body(body: bytes, secret: str) -> str:
    """``X-Hub-Signature-256`` for a body, as GitHub computes it."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def webhook_headers(event: str, delivery_id: str, body: bytes, secret: str | None,
                    *, hook_id: int = 1, app_id: int = DEFAULT_APP_ID) -> dict[str, str]:
    """The headers GitHub sends with a webhook delivery for an App."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/7f7d2b1",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id,
        "X-GitHub-Hook-ID": str(hook_id),
        "X-GitHub-Hook-Installation-Target-ID": str(app_id),
        "X-GitHub-Hook-Installation-Target-Type": "integration",
    }
    if secret is not None:
        headers["X-Hub-Signature"] = "sha1=" + hmac.new(
            secret.encode(), body, hashlib.sha1).hexdigest()
        headers["X-Hub-Signature-256"] = sign_body(body, secret)
    return headers


def generate_app_key() -> str:
    """A new RSA private key as PEM text, in the PKCS#1 form GitHub hands out."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


# --------------------------------------------------------------------------------------
# Records the tests read
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestRecord:
    """One request the fake answered."""

    time: float  # time.monotonic() when it arrived
    method: str
    path: str  # decoded, without the API prefix
    query: Mapping[str, str]
    status: int
    installation_id: int | None
    counted_against_limit: bool
    is_write: bool
    operation_id: str | None = None


@dataclass(frozen=True)
class Violation:
    """A request GitHub's description does not allow."""

    time: float
    method: str
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}: {self.reason}"


@dataclass(frozen=True)
class WindowViolation:
    """A request sent while a secondary-rate-limit ``retry-after`` window was still open."""

    time: float
    method: str
    path: str
    installation_id: int | None
    caller: str
    window_ends_at: float  # time.monotonic()

    @property
    def seconds_early(self) -> float:
        return self.window_ends_at - self.time

    def __str__(self) -> str:
        return (f"{self.method} {self.path} by {self.caller} "
                f"{self.seconds_early:.3f}s before its retry-after window ended")


@dataclass(frozen=True)
class Dispatch:
    """A workflow_dispatch the bot asked for."""

    repo: str
    workflow_id: str
    ref: str
    inputs: Mapping[str, Json]
    time: float


@dataclass
class FakeRun:
    """The workflow run a dispatch started; a test finishes it (``finish_run``)."""

    id: int
    repo: str
    workflow_id: str
    inputs: Mapping[str, Json]
    created_at: float
    status: str = "queued"  # "queued", "in_progress" or "completed"
    conclusion: str | None = None


@dataclass(frozen=True)
class Redelivery:
    """A webhook redelivery the fake sent after ``POST .../attempts``."""

    guid: str
    original_id: int
    status: int | None
    error: str | None


@dataclass
class Faults:
    """Fault injection; every rate is a probability per request, all off by default."""

    error_rate: float = 0.0  # answer 502 without doing anything
    timeout_rate: float = 0.0  # hold the request timeout_seconds, then answer 502
    timeout_seconds: float = 10.0
    secondary_limit_rate: float = 0.0  # answer 403 with retry-after, open a window
    retry_after_seconds: float = 60.0
    error_after_write_rate: float = 0.0  # do the write, then answer 502 anyway
    latency_seconds: float = 0.0  # added to every answer
    # Only these endpoints get faults: an OpenAPI template ("/repos/{owner}/{repo}/issues"),
    # or a piece of the path, optionally after a method ("POST /comments"). None: all but
    # the access-token endpoint.
    fault_paths: tuple[str, ...] | None = None


# --------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------


@dataclass
class FakeUser:
    login: str
    id: int
    type: str  # "User", "Bot" or "Organization"


@dataclass
class FakeLabel:
    id: int
    name: str
    color: str = "ededed"
    description: str | None = None
    default: bool = False


@dataclass
class FakeReaction:
    id: int
    user: FakeUser
    content: str
    created_at: float


@dataclass
class FakeComment:
    id: int
    repo: str
    issue_number: int
    body: str
    user: FakeUser
    created_at: float
    updated_at: float
    via_app: bool = False
    reactions: list[FakeReaction] = field(default_factory=list)


@dataclass
class FakeIssue:
    number: int
    id: int
    title: str
    body: str | None
    user: FakeUser
    labels: list[str]
    assignees: list[str]
    created_at: float
    updated_at: float
    state: str = "open"
    state_reason: str | None = None
    closed_at: float | None = None
    comment_ids: list[int] = field(default_factory=list)


@dataclass
class FakeRepo:
    full_name: str
    id: int
    installation_id: int
    owner: FakeUser
    created_at: float
    issues: dict[int, FakeIssue] = field(default_factory=dict)
    labels: dict[str, FakeLabel] = field(default_factory=dict)  # by lower-case name
    files: dict[str, str] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)  # lower-case login -> level

    @property
    def name(self) -> str:
        return self.full_name.split("/", 1)[1]


@dataclass
class FakeInstallation:
    id: int
    account: FakeUser
    created_at: float


@dataclass
class IssuedToken:
    token: str
    installation_id: int
    expires_at: float  # wall-clock seconds, from fake.clock
    repositories: frozenset[str] | None  # lower-case full names, or None for all


@dataclass
class Delivery:
    id: int
    guid: str
    event: str
    action: str | None
    payload: JsonDict
    status_code: int
    delivered_at: float
    redelivery: bool
    installation_id: int | None
    repository_id: int | None


@dataclass
class _RateBucket:
    limit: int
    reset_at: float
    used: int = 0


@dataclass(frozen=True)
class _Caller:
    kind: str  # "app", "installation" or "personal"
    key: str  # rate-limit and retry-after windows are kept per key
    installation_id: int | None = None
    token: IssuedToken | None = None


@dataclass
class _Answer:
    status: int
    body: Json = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # a body that is not JSON
    content_type: str = "application/json; charset=utf-8"
    encoded: bytes | None = None  # the JSON body, once serialised


class ApiError(Exception):
    """An answer other than success, raised from a handler."""

    def __init__(self, status: int, message: str, **extra: Json) -> None:
        super().__init__(message)
        self.status = status
        self.body: JsonDict = {
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
            "status": str(status),
            **extra,
        }


@dataclass
class _Call:
    """A checked request on its way to a handler."""

    request: web.Request
    operation: Operation
    params: Mapping[str, str]
    query: Mapping[str, Json]
    body: Json
    caller: _Caller
    api_path: str  # percent-encoded, without the prefix
    raw_query: Mapping[str, str]


_APP_JWT_OPERATIONS: Final = frozenset({
    "apps/get-authenticated", "apps/list-installations", "apps/get-installation",
    "apps/list-webhook-deliveries", "apps/get-webhook-delivery",
    "apps/redeliver-webhook-delivery", "apps/create-installation-access-token",
    "apps/get-repo-installation",
})
_ACCESS_TOKEN_OPERATION: Final = "apps/create-installation-access-token"
# Answers whose published schema is wrong: the inlined installation account of this one
# is allOf [simple-user, enterprise] where the referenced schema says anyOf.
_RESPONSE_SCHEMA_QUIRKS: Final = frozenset({"apps/list-installations"})
_REACTIONS: Final = ("+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket")
_APP_PERMISSIONS: Final = {
    "issues": "write", "contents": "read", "metadata": "read", "actions": "write",
    "members": "read",
}
_APP_EVENTS: Final = ["issues", "issue_comment"]
_REPO_URL_SUFFIXES: Final = {
    "archive_url": "/{archive_format}{/ref}", "assignees_url": "/assignees{/user}",
    "blobs_url": "/git/blobs{/sha}", "branches_url": "/branches{/branch}",
    "collaborators_url": "/collaborators{/collaborator}", "comments_url": "/comments{/number}",
    "commits_url": "/commits{/sha}", "compare_url": "/compare/{base}...{head}",
    "contents_url": "/contents/{+path}", "contributors_url": "/contributors",
    "deployments_url": "/deployments", "downloads_url": "/downloads", "events_url": "/events",
    "forks_url": "/forks", "git_commits_url": "/git/commits{/sha}",
    "git_refs_url": "/git/refs{/sha}", "git_tags_url": "/git/tags{/sha}", "hooks_url": "/hooks",
    "issue_comment_url": "/issues/comments{/number}",
    "issue_events_url": "/issues/events{/number}", "issues_url": "/issues{/number}",
    "keys_url": "/keys{/key_id}", "labels_url": "/labels{/name}", "languages_url": "/languages",
    "merges_url": "/merges", "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "pulls_url": "/pulls{/number}", "releases_url": "/releases{/id}",
    "stargazers_url": "/stargazers", "statuses_url": "/statuses/{sha}",
    "subscribers_url": "/subscribers", "subscription_url": "/subscription", "tags_url": "/tags",
    "teams_url": "/teams", "trees_url": "/git/trees{/sha}",
}


def iso(timestamp: float) -> str:
    """GitHub's timestamp format."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _timestamp(value: datetime | str | float | None, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _node_id(kind: str, number: int) -> str:
    return base64.b64encode(f"{kind}:{number}".encode()).decode()


def _format_seconds(seconds: float, whole: bool) -> str:
    # GitHub sends whole seconds; fractions only when a test asked for sub-second windows.
    if whole:
        return str(max(1, math.ceil(seconds - 1e-9)))
    return f"{max(seconds, 0.001):.3f}"


# --------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------


class FakeGitHub:
    """A stateful fake of GitHub's REST API on 127.0.0.1, checked against the description.

    Seed it (``add_repo``, ``add_issue``, ``add_comment``, ``set_file``, ``set_permission``,
    ``add_team_member``, ``set_workflows``, ``add_delivery``), point the bot at ``api_url``,
    then read the state back (``issue``, ``comments``, ``labels``, ``assignees``,
    ``dispatches``, ``redeliveries``) and the traffic (``requests``, ``calls``,
    ``violations``, ``window_violations``).

    Knobs: ``faults`` (see ``Faults``), ``token_lifetime_seconds``, ``rate_limit`` (per
    installation, per App JWT, per personal token), ``personal_tokens``, ``webhook_url``,
    ``clock`` (wall clock for timestamps and token expiry; JWTs are checked against real
    time), ``validate_responses`` (check the fake's own answers too).
    """

    def __init__(
        self,
        *,
        spec: OpenApiSpec | None = None,
        app_private_key: str | None = None,
        app_id: int = DEFAULT_APP_ID,
        app_slug: str = DEFAULT_APP_SLUG,
        webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
        seed: int = 0,
        prefix: str = API_PREFIX,
    ) -> None:
        self.spec = spec if spec is not None else OpenApiSpec.shared()
        self.app_private_key = app_private_key or generate_app_key()
        # The key is the test's own: skipping the (40 ms) consistency check is safe.
        private = serialization.load_pem_private_key(
            self.app_private_key.encode(), None, unsafe_skip_rsa_key_validation=True)
        if not isinstance(private, rsa.RSAPrivateKey):
            raise ValueError("the App key must be an RSA private key")
        self._app_public_key = private.public_key()
        self.app_id = app_id
        self.app_slug = app_slug
        self.webhook_secret = webhook_secret
        self.prefix = prefix.rstrip("/")
        self.clock: Callable[[], float] = time.time  # wall clock for timestamps and expiry

        # Knobs tests turn.
        self.faults = Faults()
        self.rng = random.Random(seed)
        self.token_lifetime_seconds: float = 3600.0
        self.rate_limit: int = 5000
        self.personal_tokens: set[str] = set()
        self.personal_token_login = "report-user"
        self.workflows: dict[str, set[str]] = {}  # repo -> known workflow ids or file names
        self.webhook_url: str | None = None
        self.validate_responses = False  # also check the fake's own answers (slower)
        self.allow_violations = False
        self.allow_window_violations = False

        # What tests read.
        self.requests: list[RequestRecord] = []
        self.violations: list[Violation] = []
        self.window_violations: list[WindowViolation] = []
        self.response_problems: list[str] = []
        self.dispatches: list[Dispatch] = []
        self.runs: list[FakeRun] = []
        # How a dispatch's run ends at once: a conclusion ("success", "failure"), or None to
        # leave it queued until a test calls ``finish_run``.
        self.run_outcome: str | None = "success"
        self.run_clock: Callable[[], float] = time.time  # the bot's clock, in a bot test
        self.redeliveries: list[Redelivery] = []

        self._installations: dict[int, FakeInstallation] = {}
        self._repos: dict[str, FakeRepo] = {}
        self._comments: dict[int, FakeComment] = {}
        self._users: dict[str, FakeUser] = {}
        self._teams: dict[tuple[str, str], dict[str, str]] = {}
        self._tokens: dict[str, IssuedToken] = {}
        self._buckets: dict[str, _RateBucket] = {}
        self._windows: dict[str, float] = {}
        self._deliveries: list[Delivery] = []
        self._ids = iter(range(1_000_001, 10**12))
        self._background: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.bot_user = self._user(f"{app_slug}[bot]", "Bot")
        self.app_owner = self._user("event-support", "Organization")
        self._handler_table = self._handlers()

    # ---- lifecycle ----

    @property
    def api_url(self) -> str:
        """What GITHUB_API_URL should be: ``http://127.0.0.1:PORT/api/v3``."""
        if not self.base_url:
            raise RuntimeError("FakeGitHub is not started")
        return self.base_url + self.prefix

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"

    async def stop(self) -> None:
        self._stopping.set()
        for task in list(self._background):
            task.cancel()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeGitHub:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def drain(self) -> None:
        """Wait until background work (redeliveries) is done."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    def problems(self) -> list[str]:
        """What should fail the test: violations, unless the test allowed them."""
        found: list[str] = []
        if not self.allow_violations:
            found += [f"not allowed by GitHub's OpenAPI description: {v}"
                      for v in self.violations]
            found += [f"fake answer does not match the description: {p}"
                      for p in self.response_problems]
        if not self.allow_window_violations:
            found += [f"sent inside a secondary-rate-limit window: {v}"
                      for v in self.window_violations]
        return found

    # ---- seeding ----

    def _user(self, login: str, kind: str | None = None) -> FakeUser:
        key = login.lower()
        user = self._users.get(key)
        if user is None:
            user = FakeUser(login, next(self._ids), kind or "User")
            self._users[key] = user
        elif kind is not None:
            user.type = kind
        return user

    def add_user(self, login: str, kind: str = "User") -> None:
        """A GitHub account (``GET /users/{login}`` finds it)."""
        self._user(login, kind)

    def add_installation(self, installation_id: int, account: str,
                         account_type: str = "Organization") -> None:
        self._installations[installation_id] = FakeInstallation(
            installation_id, self._user(account, account_type), self.clock())

    def add_repo(self, full_name: str, installation_id: int) -> None:
        """Add a repository to an installation (created, for the owner, if new)."""
        owner, _, name = full_name.partition("/")
        if not owner or not name or "/" in name:
            raise ValueError(f"not OWNER/NAME: {full_name!r}")
        if installation_id not in self._installations:
            self.add_installation(installation_id, owner)
        self._repos[full_name.lower()] = FakeRepo(
            full_name=full_name,
            id=next(self._ids),
            installation_id=installation_id,
            owner=self._user(owner, "Organization"),
            created_at=self.clock(),
        )

    def repo(self, full_name: str) -> FakeRepo:
        try:
            return self._repos[full_name.lower()]
        except KeyError:
            raise KeyError(f"no repository {full_name!r} in the fake") from None

    def add_label(self, repo: str, name: str, color: str = "ededed",
                  description: str | None = None) -> None:
        self._label(self.repo(repo), name, color, description)

    def _label(self, repo: FakeRepo, name: str, color: str = "ededed",
               description: str | None = None) -> FakeLabel:
        label = repo.labels.get(name.lower())
        if label is None:
            label = FakeLabel(next(self._ids), name, color, description)
            repo.labels[name.lower()] = label
        return label

    def add_issue(
        self,
        repo: str,
        *,
        title: str = "Event request",
        body: str | None = "",
        user: str = "champion",
        labels: Iterable[str] = (),
        created_at: datetime | str | float | None = None,
        assignees: Iterable[str] = (),
        state: str = "open",
    ) -> int:
        """Create an issue as USER; returns its number."""
        fake_repo = self.repo(repo)
        number = max(fake_repo.issues, default=0) + 1
        created = _timestamp(created_at, self.clock())
        issue = FakeIssue(
            number=number,
            id=next(self._ids),
            title=title,
            body=body,
            user=self._user(user),
            labels=[self._label(fake_repo, name).name for name in labels],
            assignees=[self._user(login).login for login in assignees],
            created_at=created,
            updated_at=created,
        )
        if state == "closed":
            issue.state, issue.state_reason, issue.closed_at = "closed", "completed", created
        fake_repo.issues[number] = issue
        return number

    def add_comment(self, repo: str, number: int, body: str, user: str,
                    user_type: str = "User", created_at: datetime | str | float | None = None,
                    ) -> int:
        """Post a comment as anyone (a person, another bot, or this App's bot user)."""
        fake_repo = self.repo(repo)
        issue = self._seeded_issue(fake_repo, number)
        created = _timestamp(created_at, self.clock())
        author = self._user(user, user_type)
        comment = FakeComment(next(self._ids), fake_repo.full_name, number, body, author,
                              created, created, via_app=author is self.bot_user)
        self._comments[comment.id] = comment
        issue.comment_ids.append(comment.id)
        issue.updated_at = max(issue.updated_at, created)
        return comment.id

    def edit_comment(self, repo: str, comment_id: int, body: str) -> None:
        """Change a comment's text as a person would (ticking a box in the status comment)."""
        fake_repo = self.repo(repo)
        found = self._comments.get(comment_id)
        if found is None or found.repo.lower() != fake_repo.full_name.lower():
            raise KeyError(f"no comment {comment_id} in {repo}")
        found.body = body
        found.updated_at = max(self.clock(), found.updated_at)

    def delete_comment(self, repo: str, comment_id: int) -> None:
        """Delete a comment as a person would (someone removes the status comment)."""
        fake_repo = self.repo(repo)
        found = self._comments.get(comment_id)
        if found is None or found.repo.lower() != fake_repo.full_name.lower():
            raise KeyError(f"no comment {comment_id} in {repo}")
        del self._comments[comment_id]
        issue = fake_repo.issues.get(found.issue_number)
        if issue is not None and comment_id in issue.comment_ids:
            issue.comment_ids.remove(comment_id)

    @property
    def issued_tokens(self) -> frozenset[str]:
        """Every installation token this fake has issued (to look for leaks)."""
        return frozenset(self._tokens)

    def edit_issue(self, repo: str, number: int, **changes: Json) -> None:
        """Change an issue as a person would (title, body, labels, assignees, state)."""
        fake_repo = self.repo(repo)
        issue = self._seeded_issue(fake_repo, number)
        self._apply_issue_changes(fake_repo, issue, changes)

    def set_file(self, repo: str, path: str, text: str) -> None:
        self.repo(repo).files[path.strip("/")] = text

    def set_permission(self, repo: str, user: str, level: str) -> None:
        if level not in PERMISSION_LEVELS:
            raise ValueError(f"permission must be one of {PERMISSION_LEVELS}")
        self.repo(repo).permissions[user.lower()] = level
        self._user(user)

    def add_team_member(self, org: str, team: str, user: str, role: str = "member") -> None:
        self._teams.setdefault((org.lower(), team.lower()), {})[user.lower()] = role
        self._user(user)

    def finish_run(self, run_id: int, conclusion: str) -> None:
        run = next(r for r in self.runs if r.id == run_id)
        run.status, run.conclusion = "completed", conclusion

    def set_workflows(self, repo: str, workflow_ids: Iterable[str]) -> None:
        """Make dispatches to any other workflow of REPO answer 404."""
        self.workflows[repo] = set(workflow_ids)

    def add_delivery(self, guid: str, event: str, action: str | None, payload: JsonDict,
                     status_code: int = 202, *, delivered_at: float | None = None,
                     redelivery: bool = False) -> int:
        """Record a delivery as GitHub's delivery log would show it; returns its id."""
        installation = payload.get("installation")
        repository = payload.get("repository")
        delivery = Delivery(
            id=next(self._ids), guid=guid, event=event, action=action, payload=payload,
            status_code=status_code,
            delivered_at=self.clock() if delivered_at is None else delivered_at,
            redelivery=redelivery,
            installation_id=installation.get("id") if isinstance(installation, dict) else None,
            repository_id=repository.get("id") if isinstance(repository, dict) else None,
        )
        self._deliveries.append(delivery)
        return delivery.id

    @property
    def deliveries(self) -> list[Delivery]:
        return list(self._deliveries)

    def create_token(self, installation_id: int) -> str:
        """An installation token made without the API (for tests that skip App auth)."""
        return self._issue_token(installation_id, None).token

    def expire_tokens(self) -> None:
        """Make every installation token issued so far expired."""
        now = self.clock()
        for token in self._tokens.values():
            token.expires_at = min(token.expires_at, now - 1)

    def app_jwt(self, *, lifetime: int = 540) -> str:
        """A valid App JWT, as the bot would make it."""
        now = int(time.time())
        return jwt.encode({"iat": now - 60, "exp": now + lifetime, "iss": str(self.app_id)},
                          self.app_private_key, algorithm="RS256")

    # ---- inspection ----

    def issue(self, repo: str, number: int) -> JsonDict:
        fake_repo = self.repo(repo)
        return self._issue_json(fake_repo, self._seeded_issue(fake_repo, number))

    def comments(self, repo: str, number: int) -> list[JsonDict]:
        fake_repo = self.repo(repo)
        issue = self._seeded_issue(fake_repo, number)
        return [self._comment_json(fake_repo, self._comments[cid]) for cid in issue.comment_ids]

    def comment(self, repo: str, comment_id: int) -> JsonDict:
        fake_repo = self.repo(repo)
        found = self._comments.get(comment_id)
        if found is None or found.repo.lower() != fake_repo.full_name.lower():
            raise KeyError(f"no comment {comment_id} in {repo}")
        return self._comment_json(fake_repo, found)

    def labels(self, repo: str, number: int) -> list[str]:
        return list(self._seeded_issue(self.repo(repo), number).labels)

    def assignees(self, repo: str, number: int) -> list[str]:
        return list(self._seeded_issue(self.repo(repo), number).assignees)

    def repo_labels(self, repo: str) -> list[JsonDict]:
        fake_repo = self.repo(repo)
        return [self._label_json(fake_repo, label) for label in fake_repo.labels.values()]

    def repo_json(self, repo: str) -> JsonDict:
        return self._repo_json(self.repo(repo))

    def user_json(self, login: str, user_type: str | None = None) -> JsonDict:
        return self._user_json(self._user(login, user_type))

    def installation_json(self, installation_id: int) -> JsonDict:
        return self._installation_json(self._installations[installation_id])

    def label_json(self, repo: str, name: str) -> JsonDict:
        fake_repo = self.repo(repo)
        return self._label_json(fake_repo, self._label(fake_repo, name))

    def calls(self, method: str | None = None, path_contains: str | None = None,
              operation_id: str | None = None) -> list[RequestRecord]:
        return [
            record for record in self.requests
            if (method is None or record.method == method.upper())
            and (path_contains is None or path_contains in record.path)
            and (operation_id is None or record.operation_id == operation_id)
        ]

    def reset_log(self) -> None:
        self.requests.clear()

    # ---- JSON shapes ----

    def _user_json(self, user: FakeUser) -> JsonDict:
        api = f"{self.api_url}/users/{user.login}"
        html = (f"{HTML_BASE}/apps/{self.app_slug}" if user is self.bot_user
                else f"{HTML_BASE}/{user.login}")
        return {
            "login": user.login, "id": user.id, "node_id": _node_id("User", user.id),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{user.id}?v=4",
            "gravatar_id": "", "url": api, "html_url": html,
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs", "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": user.type, "user_view_type": "public", "site_admin": False,
        }

    def _label_json(self, repo: FakeRepo, label: FakeLabel) -> JsonDict:
        return {
            "id": label.id, "node_id": _node_id("Label", label.id),
            "url": f"{self.api_url}/repos/{repo.full_name}/labels/{quote(label.name, safe='')}",
            "name": label.name, "color": label.color, "default": label.default,
            "description": label.description,
        }

    def _reactions_json(self, url: str, reactions: list[FakeReaction]) -> JsonDict:
        counts = {content: 0 for content in _REACTIONS}
        for reaction in reactions:
            counts[reaction.content] += 1
        return {"url": f"{url}/reactions", "total_count": len(reactions), **counts}

    def _association(self, repo: FakeRepo, user: FakeUser) -> str:
        if user.login.lower() == repo.owner.login.lower():
            return "OWNER"
        if repo.permissions.get(user.login.lower(), "none") != "none":
            return "COLLABORATOR"
        return "NONE"

    def _issue_json(self, repo: FakeRepo, issue: FakeIssue) -> JsonDict:
        repo_api = f"{self.api_url}/repos/{repo.full_name}"
        url = f"{repo_api}/issues/{issue.number}"
        assignees = [self._user_json(self._user(login)) for login in issue.assignees]
        return {
            "url": url, "repository_url": repo_api,
            "labels_url": f"{url}/labels{{/name}}", "comments_url": f"{url}/comments",
            "events_url": f"{url}/events",
            "html_url": f"{HTML_BASE}/{repo.full_name}/issues/{issue.number}",
            "id": issue.id, "node_id": _node_id("Issue", issue.id), "number": issue.number,
            "title": issue.title, "user": self._user_json(issue.user),
            "labels": [self._label_json(repo, self._label(repo, name)) for name in issue.labels],
            "state": issue.state, "locked": False,
            "assignee": assignees[0] if assignees else None, "assignees": assignees,
            "milestone": None, "comments": len(issue.comment_ids),
            "created_at": iso(issue.created_at), "updated_at": iso(issue.updated_at),
            "closed_at": iso(issue.closed_at) if issue.closed_at is not None else None,
            "author_association": self._association(repo, issue.user),
            "active_lock_reason": None, "body": issue.body,
            "reactions": self._reactions_json(url, []),
            "timeline_url": f"{url}/timeline", "performed_via_github_app": None,
            "state_reason": issue.state_reason,
        }

    def _comment_json(self, repo: FakeRepo, comment: FakeComment) -> JsonDict:
        repo_api = f"{self.api_url}/repos/{repo.full_name}"
        url = f"{repo_api}/issues/comments/{comment.id}"
        return {
            "url": url,
            "html_url": (f"{HTML_BASE}/{repo.full_name}/issues/{comment.issue_number}"
                         f"#issuecomment-{comment.id}"),
            "issue_url": f"{repo_api}/issues/{comment.issue_number}",
            "id": comment.id, "node_id": _node_id("IssueComment", comment.id),
            "user": self._user_json(comment.user),
            "created_at": iso(comment.created_at), "updated_at": iso(comment.updated_at),
            "author_association": self._association(repo, comment.user),
            "body": comment.body,
            "reactions": self._reactions_json(url, comment.reactions),
            "performed_via_github_app": self._app_json() if comment.via_app else None,
        }

    def _repo_json(self, repo: FakeRepo) -> JsonDict:
        api = f"{self.api_url}/repos/{repo.full_name}"
        open_issues = sum(1 for issue in repo.issues.values() if issue.state == "open")
        created = iso(repo.created_at)
        host = HTML_BASE.removeprefix("https://")
        return {
            "id": repo.id, "node_id": _node_id("Repository", repo.id), "name": repo.name,
            "full_name": repo.full_name, "owner": self._user_json(repo.owner),
            "private": False, "html_url": f"{HTML_BASE}/{repo.full_name}",
            "description": None, "fork": False, "url": api,
            **{key: api + suffix for key, suffix in _REPO_URL_SUFFIXES.items()},
            "git_url": f"git://{host}/{repo.full_name}.git",
            "ssh_url": f"git@{host}:{repo.full_name}.git",
            "clone_url": f"{HTML_BASE}/{repo.full_name}.git",
            "svn_url": f"{HTML_BASE}/{repo.full_name}", "mirror_url": None, "homepage": None,
            "language": None, "forks_count": 0, "forks": 0, "stargazers_count": 0,
            "watchers_count": 0, "watchers": 0, "size": 0, "default_branch": "main",
            "open_issues_count": open_issues, "open_issues": open_issues,
            "is_template": False, "topics": [], "has_issues": True, "has_projects": True,
            "has_wiki": True, "has_pages": False, "has_downloads": True,
            "has_discussions": False, "archived": False, "disabled": False,
            "visibility": "public", "pushed_at": created, "created_at": created,
            "updated_at": created, "license": None, "allow_forking": True,
            "web_commit_signoff_required": False, "network_count": 0,
            "subscribers_count": 0,
        }

    def _installation_json(self, installation: FakeInstallation) -> JsonDict:
        account = installation.account
        settings = (f"{HTML_BASE}/organizations/{account.login}/settings/installations/"
                    if account.type == "Organization" else f"{HTML_BASE}/settings/installations/")
        return {
            "id": installation.id, "client_id": "Iv1.fakefakefakefake",
            "account": self._user_json(account),
            "repository_selection": "selected",
            "access_tokens_url":
                f"{self.api_url}/app/installations/{installation.id}/access_tokens",
            "repositories_url": f"{self.api_url}/installation/repositories",
            "html_url": f"{settings}{installation.id}",
            "app_id": self.app_id, "app_slug": self.app_slug,
            "target_id": account.id, "target_type": account.type,
            "permissions": dict(_APP_PERMISSIONS), "events": list(_APP_EVENTS),
            "created_at": iso(installation.created_at),
            "updated_at": iso(installation.created_at),
            "single_file_name": None, "has_multiple_single_files": False,
            "single_file_paths": [], "suspended_by": None, "suspended_at": None,
        }

    def _app_json(self) -> JsonDict:
        return {
            "id": self.app_id, "slug": self.app_slug, "node_id": _node_id("App", self.app_id),
            "client_id": "Iv1.fakefakefakefake", "owner": self._user_json(self.app_owner),
            "name": "Event Support Bot", "description": "Triage of event-support requests",
            "external_url": "https://example.org/event-support-bot",
            "html_url": f"{HTML_BASE}/apps/{self.app_slug}",
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
            "permissions": dict(_APP_PERMISSIONS), "events": list(_APP_EVENTS),
            "installations_count": len(self._installations),
        }

    def _delivery_json(self, delivery: Delivery, full: bool = False) -> JsonDict:
        ok = 200 <= delivery.status_code < 400
        item: JsonDict = {
            "id": delivery.id, "guid": delivery.guid,
            "delivered_at": iso(delivery.delivered_at), "redelivery": delivery.redelivery,
            "duration": 0.01,
            "status": "OK" if ok else (f"Invalid HTTP Response: {delivery.status_code}"
                                       if delivery.status_code else "failed to connect"),
            "status_code": delivery.status_code, "event": delivery.event,
            "action": delivery.action, "installation_id": delivery.installation_id,
            "repository_id": delivery.repository_id, "throttled_at": None,
        }
        if full:
            body = json.dumps(delivery.payload).encode()
            item["url"] = self.webhook_url or ""
            item["request"] = {
                "headers": webhook_headers(delivery.event, delivery.guid, body, None),
                "payload": delivery.payload,
            }
            item["response"] = {"headers": {}, "payload": ""}
        return item

    # ---- request handling ----

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        body = await request.read()
        raw_path = request.rel_url.raw_path
        prefix_ok = raw_path.startswith(self.prefix + "/")
        api_path = raw_path[len(self.prefix):] if prefix_ok else raw_path
        path = unquote(api_path)
        context: dict[str, Any] = {"installation_id": None, "counted": False, "operation": None}
        answer = await self._process(request, arrived, prefix_ok, api_path, path, body, context)
        response = self._finish(answer)
        query = {key: value for key, value in request.rel_url.query.items()}
        self.requests.append(RequestRecord(
            time=arrived, method=request.method, path=path, query=query,
            status=response.status, installation_id=context["installation_id"],
            counted_against_limit=context["counted"],
            is_write=request.method not in ("GET", "HEAD")
            and context["operation"] != _ACCESS_TOKEN_OPERATION,
            operation_id=context["operation"],
        ))
        return response

    def _violation(self, arrived: float, method: str, path: str, reason: str) -> None:
        violation = Violation(arrived, method, path, reason)
        log.warning("fake GitHub: %s", violation)
        self.violations.append(violation)

    async def _process(self, request: web.Request, arrived: float, prefix_ok: bool,
                       api_path: str, path: str, body: bytes, context: dict[str, Any],
                       ) -> _Answer:
        method = request.method
        if not prefix_ok:
            self._violation(arrived, method, path, f"outside the API prefix {self.prefix}")
            return _Answer(404, {"message": "Not Found"})
        if "user-agent" not in request.headers:
            self._violation(arrived, method, path, "no User-Agent header (GitHub requires one)")
            return _Answer(403, {"message": "Request forbidden by administrative rules. "
                                            "Please make sure your request has a User-Agent "
                                            "header."})
        version = request.headers.get("x-github-api-version")
        if version is not None and version not in API_VERSIONS:
            self._violation(arrived, method, path, f"unsupported API version {version!r}")
            return _Answer(400, {"message": f"API version '{version}' is not supported."})
        check = self.spec.check(method, api_path, request.rel_url.query,
                                request.headers.get("content-type", ""), body)
        if check.operation is None or check.problem is not None:
            self._violation(arrived, method, path, check.problem or "unknown")
            message = "Not Found" if check.status == 404 else f"Invalid request.\n\n{check.problem}"
            return _Answer(check.status, {"message": message,
                                          "documentation_url": "https://docs.github.com/rest"})
        operation = check.operation
        context["operation"] = operation.operation_id

        identified = self._identify(request)
        caller = identified if isinstance(identified, _Caller) else None
        # An expired token still names its installation, whose window it must respect.
        sender = caller or self._expired_token_caller(request)
        if sender is not None:
            context["installation_id"] = sender.installation_id
            window_end = self._windows.get(sender.key)
            if window_end is not None and arrived < window_end:
                self.window_violations.append(WindowViolation(
                    arrived, method, path, sender.installation_id, sender.key, window_end))
                context["counted"] = True
                return self._secondary_limit(window_end - arrived, sender, open_=False)

        faults = self.faults
        if faults.latency_seconds > 0:
            await self._pause(faults.latency_seconds)
        if self._fault_applies(operation, method, path):
            roll = self.rng.random()
            if roll < faults.timeout_rate:
                await self._pause(faults.timeout_seconds)
                return _Answer(502, {"message": "Server Error"})
            roll -= faults.timeout_rate
            if roll < faults.error_rate:
                return _Answer(502, {"message": "Server Error"})
            roll -= faults.error_rate
            if roll < faults.secondary_limit_rate and caller is not None:
                context["counted"] = True
                return self._secondary_limit(faults.retry_after_seconds, caller, open_=True)

        if isinstance(identified, ApiError):
            return _Answer(identified.status, identified.body)
        assert caller is not None
        wants_app = operation.operation_id in _APP_JWT_OPERATIONS
        if wants_app and caller.kind != "app":
            return _Answer(401, {"message": "A JSON web token could not be decoded",
                                 "documentation_url": "https://docs.github.com/rest"})
        if not wants_app and caller.kind == "app":
            return _Answer(401, {"message": "Bad credentials",
                                 "documentation_url": "https://docs.github.com/rest"})

        bucket = self._bucket(caller)
        if bucket.used >= bucket.limit and operation.operation_id != "rate-limit/get":
            answer = _Answer(403, {"message": f"API rate limit exceeded for {caller.key}.",
                                   "documentation_url": "https://docs.github.com/rest/"
                                   "overview/rate-limits-for-the-rest-api"})
            answer.headers.update(self._rate_headers(bucket))
            return answer

        call = _Call(request, operation, check.path_params, check.query, check.body, caller,
                     api_path, {key: value for key, value in request.rel_url.query.items()})
        try:
            answer = self._dispatch(call)
        except ApiError as error:
            answer = _Answer(error.status, error.body)
        self._conditional(request, answer)
        if answer.status != 304 and operation.operation_id != "rate-limit/get":
            bucket.used += 1
            context["counted"] = True
        answer.headers.update(self._rate_headers(bucket))
        if (self.validate_responses and answer.raw is None and answer.status < 300
                and answer.status != 204):
            self._check_response(operation, answer)
        if (method != "GET" and faults.error_after_write_rate > 0
                and self._fault_applies(operation, method, path)
                and self.rng.random() < faults.error_after_write_rate):
            return _Answer(502, {"message": "Server Error"})
        return answer

    async def _pause(self, seconds: float) -> None:
        # Returns early when the fake stops, so held requests never delay a test's teardown.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    def _fault_applies(self, operation: Operation, method: str, path: str) -> bool:
        paths = self.faults.fault_paths
        if paths is None:
            return operation.operation_id != _ACCESS_TOKEN_OPERATION
        for entry in paths:
            wanted_method, _, wanted = entry.partition(" ") if " " in entry else ("", "", entry)
            if wanted_method and wanted_method.upper() != method:
                continue
            if wanted == operation.template or wanted in path:
                return True
        return False

    def _secondary_limit(self, retry_after: float, caller: _Caller, *, open_: bool) -> _Answer:
        whole = float(self.faults.retry_after_seconds).is_integer()
        if open_:
            self._windows[caller.key] = time.monotonic() + retry_after
        answer = _Answer(403, {
            "message": SECONDARY_LIMIT_MESSAGE,
            "documentation_url": "https://docs.github.com/rest/overview/"
                                 "rate-limits-for-the-rest-api#about-secondary-rate-limits",
        })
        answer.headers["retry-after"] = _format_seconds(retry_after, whole)
        bucket = self._bucket(caller)
        bucket.used += 1
        answer.headers.update(self._rate_headers(bucket))
        return answer

    def _identify(self, request: web.Request) -> _Caller | ApiError:
        header = request.headers.get("authorization", "")
        scheme, _, credential = header.partition(" ")
        credential = credential.strip()
        if not header:
            return ApiError(401, "Requires authentication")
        if scheme.lower() not in ("token", "bearer") or not credential:
            return ApiError(401, "Bad credentials")
        if credential.count(".") == 2 and credential.startswith("eyJ"):
            return self._verify_jwt(credential)
        token = self._tokens.get(credential)
        if token is not None:
            if self.clock() >= token.expires_at:
                return ApiError(401, "Bad credentials")
            return _Caller("installation", f"installation:{token.installation_id}",
                           token.installation_id, token)
        if credential in self.personal_tokens:
            digest = hashlib.sha256(credential.encode()).hexdigest()[:12]
            return _Caller("personal", f"personal:{digest}")
        return ApiError(401, "Bad credentials")

    def _expired_token_caller(self, request: web.Request) -> _Caller | None:
        credential = request.headers.get("authorization", "").partition(" ")[2].strip()
        token = self._tokens.get(credential)
        if token is None:
            return None
        return _Caller("installation", f"installation:{token.installation_id}",
                       token.installation_id, token)

    def _verify_jwt(self, credential: str) -> _Caller | ApiError:
        try:
            claims = jwt.decode(credential, self._app_public_key, algorithms=["RS256"],
                                options={"require": ["exp", "iat", "iss"]}, leeway=5)
        except jwt.PyJWTError as exc:
            return ApiError(401, f"A JSON web token could not be decoded ({exc})")
        now = time.time()
        if str(claims["iss"]) != str(self.app_id):
            return ApiError(401, "'Issuer' claim ('iss') must be the App's id")
        if float(claims["exp"]) - now > 600 + 5:
            return ApiError(401, "'Expiration time' claim ('exp') is too far in the future")
        if float(claims["exp"]) <= float(claims["iat"]):
            return ApiError(401, "'Expiration time' claim ('exp') must be after 'iat'")
        return _Caller("app", "app")

    def _bucket(self, caller: _Caller) -> _RateBucket:
        now = self.clock()
        bucket = self._buckets.get(caller.key)
        if bucket is None or now >= bucket.reset_at:
            bucket = _RateBucket(limit=self.rate_limit, reset_at=now + 3600)
            self._buckets[caller.key] = bucket
        bucket.limit = self.rate_limit
        return bucket

    def _rate_headers(self, bucket: _RateBucket) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(bucket.limit),
            "x-ratelimit-remaining": str(max(0, bucket.limit - bucket.used)),
            "x-ratelimit-reset": str(int(bucket.reset_at)),
            "x-ratelimit-used": str(bucket.used),
            "x-ratelimit-resource": "core",
        }

    def _conditional(self, request: web.Request, answer: _Answer) -> None:
        """Add an ETag to successful reads and turn a matching If-None-Match into 304."""
        if request.method != "GET" or answer.status != 200:
            return
        digest = hashlib.sha256(self._encode(answer))
        digest.update(answer.headers.get("link", "").encode())
        etag = f'W/"{digest.hexdigest()[:40]}"'
        answer.headers["etag"] = etag
        wanted = request.headers.get("if-none-match")
        if wanted is None:
            return
        tags = {tag.strip().removeprefix("W/") for tag in wanted.split(",")}
        if "*" in tags or etag.removeprefix("W/") in tags:
            answer.status, answer.body, answer.raw = 304, None, b""

    def _encode(self, answer: _Answer) -> bytes:
        if answer.raw is not None:
            return answer.raw
        if answer.body is None:
            return b""
        if answer.encoded is None:
            answer.encoded = json.dumps(answer.body, separators=(",", ":")).encode()
        return answer.encoded

    def _finish(self, answer: _Answer) -> web.Response:
        headers = {
            "x-github-request-id": f"FAKE:{secrets.token_hex(4).upper()}",
            "x-github-api-version-selected": "2022-11-28",
            **answer.headers,
        }
        if answer.status in (204, 304):
            return web.Response(status=answer.status, headers=headers)
        headers["content-type"] = answer.content_type
        return web.Response(status=answer.status, body=self._encode(answer), headers=headers)

    def _check_response(self, operation: Operation, answer: _Answer) -> None:
        if operation.operation_id in _RESPONSE_SCHEMA_QUIRKS:
            return
        validator = self.spec.response_validator(operation, answer.status)
        if validator is None:
            self.response_problems.append(
                f"{operation.operation_id}: the description has no JSON answer "
                f"with status {answer.status}")
            return
        error = _first_error(validator, answer.body)
        if error:
            self.response_problems.append(f"{operation.operation_id} {answer.status}: {error}")

    # ---- endpoints ----

    def _dispatch(self, call: _Call) -> _Answer:
        handler = self._handler_table.get(call.operation.operation_id)
        if handler is None:
            self._violation(time.monotonic(), call.request.method, unquote(call.api_path),
                            f"{call.operation.operation_id} is described by GitHub but not "
                            "implemented by the fake")
            return _Answer(501, {"message": f"{call.operation.operation_id} is not "
                                            "implemented by the fake"})
        return handler(call)

    def _handlers(self) -> dict[str, Callable[[_Call], _Answer]]:
        return {
            "apps/get-authenticated": lambda call: _Answer(200, self._app_json()),
            "apps/list-installations": self._list_installations,
            "apps/get-installation": self._get_installation,
            "apps/get-repo-installation": self._get_repo_installation,
            "apps/create-installation-access-token": self._create_token,
            "apps/list-repos-accessible-to-installation": self._installation_repos,
            "apps/list-webhook-deliveries": self._list_deliveries,
            "apps/get-webhook-delivery": self._get_delivery,
            "apps/redeliver-webhook-delivery": self._redeliver,
            "rate-limit/get": self._rate_limit,
            "repos/get": lambda call: _Answer(200, self._repo_json(self._repo_for(call))),
            "repos/get-content": self._get_content,
            "repos/get-collaborator-permission-level": self._get_permission,
            "teams/get-membership-for-user-in-org": self._get_membership,
            "users/get-by-username": self._get_user,
            "actions/create-workflow-dispatch": self._create_dispatch,
            "actions/get-workflow": self._get_workflow,
            "actions/list-workflow-runs": self._list_runs,
            "issues/list-for-repo": self._list_issues,
            "issues/create": self._create_issue,
            "issues/get": self._get_issue,
            "issues/update": self._update_issue,
            "issues/list-comments": self._list_comments,
            "issues/list-comments-for-repo": self._list_repo_comments,
            "issues/create-comment": self._create_comment,
            "issues/get-comment": self._get_comment,
            "issues/update-comment": self._update_comment,
            "issues/delete-comment": self._delete_comment,
            "reactions/create-for-issue-comment": self._create_reaction,
            "issues/list-labels-for-repo": self._list_repo_labels,
            "issues/create-label": self._create_label,
            "issues/get-label": self._get_label,
            "issues/update-label": self._update_label,
            "issues/list-labels-on-issue": self._list_issue_labels,
            "issues/add-labels": self._add_labels,
            "issues/set-labels": self._set_labels,
            "issues/remove-label": self._remove_label,
            "issues/add-assignees": self._add_assignees,
            "issues/remove-assignees": self._remove_assignees,
        }

    # helpers

    def _repo_for(self, call: _Call) -> FakeRepo:
        full = f"{call.params['owner']}/{call.params['repo']}".lower()
        repo = self._repos.get(full)
        if repo is None:
            raise ApiError(404, "Not Found")
        caller = call.caller
        if caller.kind == "installation":
            token = caller.token
            if repo.installation_id != caller.installation_id or (
                    token is not None and token.repositories is not None
                    and full not in token.repositories):
                raise ApiError(404, "Not Found")
        return repo

    @staticmethod
    def _seeded_issue(repo: FakeRepo, number: int) -> FakeIssue:
        try:
            return repo.issues[number]
        except KeyError:
            raise KeyError(f"no issue {number} in {repo.full_name}") from None

    def _issue_in(self, repo: FakeRepo, number: int) -> FakeIssue:
        issue = repo.issues.get(number)
        if issue is None:
            raise ApiError(404, "Not Found")
        return issue

    def _issue_for(self, call: _Call) -> tuple[FakeRepo, FakeIssue]:
        repo = self._repo_for(call)
        return repo, self._issue_in(repo, int(call.params["issue_number"]))

    def _comment_for(self, call: _Call) -> tuple[FakeRepo, FakeComment]:
        repo = self._repo_for(call)
        comment = self._comments.get(int(call.params["comment_id"]))
        if comment is None or comment.repo.lower() != repo.full_name.lower():
            raise ApiError(404, "Not Found")
        return repo, comment

    def _author(self, call: _Call) -> FakeUser:
        if call.caller.kind == "installation":
            return self.bot_user
        return self._user(self.personal_token_login)

    def _paginate(self, call: _Call, items: list[Json]) -> tuple[list[Json], dict[str, str]]:
        per_page = int(call.query.get("per_page", 30))
        per_page = 30 if per_page < 1 else min(per_page, 100)
        page = max(1, int(call.query.get("page", 1)))
        last = max(1, math.ceil(len(items) / per_page))
        chunk = items[(page - 1) * per_page: page * per_page]

        def link(number: int, rel: str) -> str:
            params = dict(call.raw_query)
            params["page"] = str(number)
            return f'<{self.api_url}{call.api_path}?{urlencode(params)}>; rel="{rel}"'

        links = []
        if page > 1:
            links += [link(page - 1, "prev")]
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first")]
        return chunk, ({"link": ", ".join(links)} if links else {})

    def _page(self, call: _Call, items: list[Json]) -> _Answer:
        chunk, headers = self._paginate(call, items)
        return _Answer(200, chunk, headers)

    def _check_body_length(self, text: Json) -> None:
        if isinstance(text, str) and len(text) > MAX_BODY_CHARS:
            raise ApiError(422, "Validation Failed", errors=[{
                "resource": "IssueComment", "code": "custom", "field": "body",
                "message": f"body is too long (maximum is {MAX_BODY_CHARS} characters)"}])

    def _touch(self, issue: FakeIssue) -> None:
        issue.updated_at = max(self.clock(), issue.updated_at)

    # app endpoints

    def _list_installations(self, call: _Call) -> _Answer:
        items = [self._installation_json(i) for i in self._installations.values()]
        return self._page(call, items)

    def _get_installation(self, call: _Call) -> _Answer:
        installation = self._installations.get(int(call.params["installation_id"]))
        if installation is None:
            raise ApiError(404, "Not Found")
        return _Answer(200, self._installation_json(installation))

    def _get_repo_installation(self, call: _Call) -> _Answer:
        repo = self._repos.get(f"{call.params['owner']}/{call.params['repo']}".lower())
        if repo is None:
            raise ApiError(404, "Not Found")
        return _Answer(200, self._installation_json(self._installations[repo.installation_id]))

    def _issue_token(self, installation_id: int,
                     repositories: frozenset[str] | None) -> IssuedToken:
        token = IssuedToken(
            token="ghs_" + secrets.token_urlsafe(27).replace("-", "a").replace("_", "b"),
            installation_id=installation_id,
            expires_at=self.clock() + self.token_lifetime_seconds,
            repositories=repositories,
        )
        self._tokens[token.token] = token
        return token

    def _create_token(self, call: _Call) -> _Answer:
        installation_id = int(call.params["installation_id"])
        if installation_id not in self._installations:
            raise ApiError(404, "Not Found")
        own = {full: repo for full, repo in self._repos.items()
               if repo.installation_id == installation_id}
        body = call.body if isinstance(call.body, dict) else {}
        names = body.get("repositories")
        repositories: frozenset[str] | None = None
        if isinstance(names, list):
            owner = self._installations[installation_id].account.login
            wanted = {(name if "/" in name else f"{owner}/{name}").lower() for name in names}
            if not wanted <= own.keys():
                raise ApiError(422, "There is at least one repository that does not exist "
                                    "or is not accessible to the parent installation.")
            repositories = frozenset(wanted)
        token = self._issue_token(installation_id, repositories)
        selected = own if repositories is None else {k: own[k] for k in repositories}
        return _Answer(201, {
            "token": token.token, "expires_at": iso(token.expires_at),
            "permissions": dict(_APP_PERMISSIONS),
            "repository_selection": "all" if repositories is None else "selected",
            **({} if repositories is None
               else {"repositories": [self._repo_json(r) for r in selected.values()]}),
        })

    def _installation_repos(self, call: _Call) -> _Answer:
        if call.caller.kind != "installation":
            raise ApiError(403, "This endpoint needs an installation access token")
        token = call.caller.token
        repos = [repo for full, repo in self._repos.items()
                 if repo.installation_id == call.caller.installation_id
                 and (token is None or token.repositories is None or full in token.repositories)]
        chunk, headers = self._paginate(call, [self._repo_json(repo) for repo in repos])
        return _Answer(200, {"total_count": len(repos), "repositories": chunk,
                             "repository_selection": "selected"}, headers)

    def _list_deliveries(self, call: _Call) -> _Answer:
        items = sorted(self._deliveries, key=lambda d: d.id, reverse=True)
        status = call.query.get("status")
        if status is not None:
            items = [d for d in items if (200 <= d.status_code < 400) == (status == "success")]
        cursor = call.query.get("cursor")
        if cursor is not None:
            match = re.fullmatch(r"v1_(\d+)", str(cursor))
            if match is None:
                raise ApiError(400, "Bad request: invalid cursor")
            items = [d for d in items if d.id < int(match.group(1))]
        per_page = min(max(int(call.query.get("per_page", 30)), 1), 100)
        chunk, rest = items[:per_page], items[per_page:]
        headers: dict[str, str] = {}
        if rest:
            params = dict(call.raw_query)
            params["cursor"] = f"v1_{chunk[-1].id}"
            headers["link"] = f'<{self.api_url}{call.api_path}?{urlencode(params)}>; rel="next"'
        return _Answer(200, [self._delivery_json(d) for d in chunk], headers)

    def _delivery(self, call: _Call) -> Delivery:
        wanted = int(call.params["delivery_id"])
        for delivery in self._deliveries:
            if delivery.id == wanted:
                return delivery
        raise ApiError(404, "Not Found")

    def _get_delivery(self, call: _Call) -> _Answer:
        return _Answer(200, self._delivery_json(self._delivery(call), full=True))

    def _redeliver(self, call: _Call) -> _Answer:
        original = self._delivery(call)
        task = asyncio.get_running_loop().create_task(self._send_redelivery(original))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return _Answer(202, {})

    async def _send_redelivery(self, original: Delivery) -> None:
        body = json.dumps(original.payload).encode()
        status: int | None = None
        error: str | None = None
        if self.webhook_url is None:
            error = "fake.webhook_url is not set"
        else:
            headers = webhook_headers(original.event, original.guid, body, self.webhook_secret,
                                      app_id=self.app_id)
            try:
                async with aiohttp.ClientSession() as session, session.post(
                    self.webhook_url, data=body, headers=headers,
                    timeout=aiohttp.ClientTimeout(total=10),
                ) as response:
                    status = response.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = repr(exc)
        self.add_delivery(original.guid, original.event, original.action, original.payload,
                          status_code=status or 0, redelivery=True)
        self.redeliveries.append(Redelivery(original.guid, original.id, status, error))

    def _rate_limit(self, call: _Call) -> _Answer:
        bucket = self._bucket(call.caller)
        core = {"limit": bucket.limit, "remaining": max(0, bucket.limit - bucket.used),
                "reset": int(bucket.reset_at), "used": bucket.used, "resource": "core"}
        return _Answer(200, {"resources": {"core": core}, "rate": core})

    # repository endpoints

    def _get_content(self, call: _Call) -> _Answer:
        repo = self._repo_for(call)
        path = call.params["path"].strip("/")
        text = repo.files.get(path)
        if text is None:
            listing = self._directory(repo, path)
            if listing:
                return _Answer(200, listing)
            raise ApiError(404, "Not Found")
        data = text.encode()
        accept = call.request.headers.get("accept", "")
        if "raw" in accept:
            return _Answer(200, raw=data, content_type="text/plain; charset=utf-8")
        encoded = base64.b64encode(data).decode()
        content = "\n".join(encoded[i:i + 60] for i in range(0, len(encoded), 60)) + "\n"
        sha = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        api = f"{self.api_url}/repos/{repo.full_name}"
        url = f"{api}/contents/{quote(path)}?ref=main"
        html = f"{HTML_BASE}/{repo.full_name}/blob/main/{quote(path)}"
        git = f"{api}/git/blobs/{sha}"
        return _Answer(200, {
            "type": "file", "encoding": "base64", "size": len(data),
            "name": path.rsplit("/", 1)[-1], "path": path, "content": content, "sha": sha,
            "url": url, "git_url": git, "html_url": html,
            "download_url": f"https://raw.githubusercontent.com/{repo.full_name}/main/{path}",
            "_links": {"self": url, "git": git, "html": html},
        })

    def _directory(self, repo: FakeRepo, path: str) -> list[Json]:
        """A directory's entries (the files below it, one level), as GitHub lists them."""
        prefix = f"{path}/" if path else ""
        names: dict[str, str] = {}
        for file in repo.files:
            if file.startswith(prefix):
                head, _, rest = file[len(prefix):].partition("/")
                names[head] = "dir" if rest else "file"
        api = f"{self.api_url}/repos/{repo.full_name}"
        out: list[Json] = []
        for name, kind in sorted(names.items()):
            full = f"{prefix}{name}"
            data = repo.files.get(full, "").encode()
            sha = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
            url = f"{api}/contents/{quote(full)}?ref=main"
            html = f"{HTML_BASE}/{repo.full_name}/{'blob' if kind == 'file' else 'tree'}/main/" \
                f"{quote(full)}"
            git = f"{api}/git/{'blobs' if kind == 'file' else 'trees'}/{sha}"
            download = (f"https://raw.githubusercontent.com/{repo.full_name}/main/{full}"
                        if kind == "file" else None)
            out.append({"type": kind, "size": len(data) if kind == "file" else 0,
                        "name": name, "path": full, "sha": sha, "url": url, "git_url": git,
                        "html_url": html, "download_url": download,
                        "_links": {"self": url, "git": git, "html": html}})
        return out

    def _get_permission(self, call: _Call) -> _Answer:
        repo = self._repo_for(call)
        user = self._user(call.params["username"])
        role = repo.permissions.get(user.login.lower(), "none")
        legacy = {"maintain": "write", "triage": "read"}.get(role, role)
        rank = PERMISSION_LEVELS.index(role)
        collaborator = {
            **self._user_json(user),
            "permissions": {
                "admin": rank <= 0, "maintain": rank <= 1, "push": rank <= 2,
                "triage": rank <= 3, "pull": rank <= 4,
            },
            "role_name": role,
        }
        return _Answer(200, {"permission": legacy, "role_name": role, "user": collaborator})

    def _get_user(self, call: _Call) -> _Answer:
        user = self._users.get(call.params["username"].lower())
        if user is None:
            raise ApiError(404, "Not Found")
        stamp = "2020-01-01T00:00:00Z"
        return _Answer(200, {
            **self._user_json(user), "name": None, "company": None, "blog": "",
            "location": None, "email": None, "hireable": None, "bio": None,
            "public_repos": 0, "public_gists": 0, "followers": 0, "following": 0,
            "created_at": stamp, "updated_at": stamp,
        })

    def _get_membership(self, call: _Call) -> _Answer:
        org = call.params["org"]
        if call.caller.kind == "installation":
            installation = self._installations.get(call.caller.installation_id or 0)
            if installation is None or installation.account.login.lower() != org.lower():
                raise ApiError(404, "Not Found")
        team = call.params["team_slug"]
        login = call.params["username"]
        role = self._teams.get((org.lower(), team.lower()), {}).get(login.lower())
        if role is None:
            raise ApiError(404, "Not Found")
        return _Answer(200, {
            "url": f"{self.api_url}/organizations/1/team/1/memberships/{login}",
            "role": role, "state": "active",
        })

    def _get_workflow(self, call: _Call) -> _Answer:
        repo = self._repo_for(call)
        workflow_id = call.params["workflow_id"]
        known = next((ids for name, ids in self.workflows.items()
                      if name.lower() == repo.full_name.lower()), set())
        if workflow_id not in {str(w) for w in known}:
            raise ApiError(404, "Not Found")
        path = f".github/workflows/{workflow_id}"
        stamp = "2026-01-01T00:00:00Z"
        return _Answer(200, {
            "id": 161335, "node_id": _node_id("Workflow", 161335), "name": workflow_id,
            "path": path, "state": "active", "created_at": stamp, "updated_at": stamp,
            "url": f"{self.api_url}/repos/{repo.full_name}/actions/workflows/161335",
            "html_url": f"{HTML_BASE}/{repo.full_name}/blob/main/{path}",
            "badge_url": f"{HTML_BASE}/{repo.full_name}/workflows/{workflow_id}/badge.svg",
        })

    def _create_dispatch(self, call: _Call) -> _Answer:
        repo = self._repo_for(call)
        workflow_id = call.params["workflow_id"]
        known = next((ids for name, ids in self.workflows.items()
                      if name.lower() == repo.full_name.lower()), None)
        if known is not None and workflow_id not in {str(w) for w in known}:
            raise ApiError(404, "Not Found")
        body = call.body if isinstance(call.body, dict) else {}
        inputs = body.get("inputs") or {}
        if any(not isinstance(value, str | bool | int | float) for value in inputs.values()):
            raise ApiError(422, "Invalid inputs: values must be strings, numbers or booleans")
        self.dispatches.append(Dispatch(repo.full_name, workflow_id, str(body.get("ref")),
                                        dict(inputs), time.monotonic()))
        done = self.run_outcome is not None
        self.runs.append(FakeRun(
            id=9000 + len(self.runs) + 1, repo=repo.full_name, workflow_id=workflow_id,
            inputs=dict(inputs), created_at=self.run_clock() + 1,
            status="completed" if done else "queued", conclusion=self.run_outcome))
        return _Answer(204)

    def _run_json(self, repo: FakeRepo, run: FakeRun) -> JsonDict:
        api = f"{self.api_url}/repos/{repo.full_name}"
        url = f"{api}/actions/runs/{run.id}"
        stamp = iso(run.created_at)
        minimal = self._repo_json(repo)
        return {
            "id": run.id, "node_id": _node_id("WFR", run.id), "name": run.workflow_id,
            "head_branch": "main", "head_sha": "0" * 40, "path": f".github/workflows/"
            f"{run.workflow_id}", "run_number": run.id - 9000, "run_attempt": 1,
            "display_title": run.workflow_id, "event": "workflow_dispatch",
            "status": run.status, "conclusion": run.conclusion, "workflow_id": 1,
            "url": url, "html_url": f"{HTML_BASE}/{repo.full_name}/actions/runs/{run.id}",
            "created_at": stamp, "updated_at": stamp, "run_started_at": stamp,
            "head_commit": None, "head_repository": minimal, "repository": minimal,
            "jobs_url": f"{url}/jobs", "logs_url": f"{url}/logs",
            "check_suite_url": f"{api}/check-suites/{run.id}", "cancel_url": f"{url}/cancel",
            "rerun_url": f"{url}/rerun", "artifacts_url": f"{url}/artifacts",
            "workflow_url": f"{api}/actions/workflows/1", "pull_requests": [],
        }

    def _list_runs(self, call: _Call) -> _Answer:
        repo = self._repo_for(call)
        workflow_id = call.params["workflow_id"]
        event = call.query.get("event")
        runs = [r for r in reversed(self.runs)  # newest first, as GitHub lists them
                if r.repo.lower() == repo.full_name.lower() and r.workflow_id == workflow_id
                and event in (None, "workflow_dispatch")
                and r.created_at <= self.run_clock()]  # a run starts a moment after
        page, headers = self._paginate(call, [self._run_json(repo, r) for r in runs])
        return _Answer(200, {"total_count": len(runs), "workflow_runs": page}, headers)

    # issues

    def _list_issues(self, call: _Call) -> _Answer:
        repo = self._repo_for(call)
        query = call.query
        issues = list(repo.issues.values())
        state = query.get("state", "open")
        if state != "all":
            issues = [issue for issue in issues if issue.state == state]
        wanted = {name.strip().lower() for name in str(query.get("labels", "")).split(",")
                  if name.strip()}
        if wanted:
            issues = [issue for issue in issues
                      if wanted <= {name.lower() for name in issue.labels}]
        if "since" in query:
            since = _timestamp(str(query["since"]), 0)
            issues = [issue for issue in issues if issue.updated_at >= since]
        if "creator" in query:
            issues = [i for i in issues if i.user.login.lower() == str(query["creator"]).lower()]
        assignee = query.get("assignee")
        if assignee == "none":
            issues = [issue for issue in issues if not issue.assignees]
        elif assignee == "*":
            issues = [issue for issue in issues if issue.assignees]
        elif assignee is not None:
            issues = [issue for issue in issues
                      if str(assignee).lower() in {a.lower() for a in issue.assignees}]
        sort = query.get("sort", "created")
        keys: dict[str, Callable[[FakeIssue], float]] = {
            "created": lambda issue: issue.created_at,
            "updated": lambda issue: issue.updated_at,
            "comments": lambda issue: len(issue.comment_ids),
        }
        key = keys.get(str(sort), keys["created"])
        issues.sort(key=lambda issue: (key(issue), issue.number),
                    reverse=query.get("direction", "desc") != "asc")
        return self._page(call, [self._issue_json(repo, issue) for issue in issues])

    def _create_issue(self, call: _Call) -> _Answer:
        repo = self._repo_for(call)
        body = call.body
        self._check_body_length(body.get("body"))
        number = self.add_issue(
            repo.full_name, title=str(body["title"]), body=body.get("body"),
            user=self._author(call).login,
            labels=[self._label_name(label) for label in body.get("labels") or []],
            assignees=body.get("assignees") or [],
        )
        return _Answer(201, self._issue_json(repo, repo.issues[number]))

    def _get_issue(self, call: _Call) -> _Answer:
        repo, issue = self._issue_for(call)
        return _Answer(200, self._issue_json(repo, issue))

    @staticmethod
    def _label_name(label: Json) -> str:
        return str(label["name"]) if isinstance(label, dict) else str(label)

    @staticmethod
    def _login(assignee: Json) -> str:
        return str(assignee["login"]) if isinstance(assignee, dict) else str(assignee)

    def _apply_issue_changes(self, repo: FakeRepo, issue: FakeIssue, changes: JsonDict) -> None:
        if "title" in changes and changes["title"] is not None:
            issue.title = str(changes["title"])
        if "body" in changes:
            self._check_body_length(changes["body"])
            issue.body = changes["body"]
        if "labels" in changes:
            issue.labels = self._label_names(repo, changes["labels"] or [])
        if "assignees" in changes:
            issue.assignees = self._logins(changes["assignees"] or [])
        elif "assignee" in changes:
            issue.assignees = self._logins([changes["assignee"]] if changes["assignee"] else [])
        if "state" in changes and changes["state"] != issue.state:
            issue.state = changes["state"]
            if issue.state == "closed":
                issue.closed_at = self.clock()
                issue.state_reason = changes.get("state_reason") or "completed"
            else:
                issue.closed_at = None
                issue.state_reason = "reopened"
        elif "state_reason" in changes and issue.state == "closed":
            issue.state_reason = changes["state_reason"]
        self._touch(issue)

    def _label_names(self, repo: FakeRepo, labels: Iterable[Json]) -> list[str]:
        # Unknown labels are created, as GitHub does; names keep the existing label's case.
        names: list[str] = []
        for label in labels:
            name = self._label(repo, self._label_name(label)).name
            if name not in names:
                names.append(name)
        return names

    def _logins(self, assignees: Iterable[Json]) -> list[str]:
        logins: list[str] = []
        for assignee in assignees:
            login = self._user(self._login(assignee)).login
            if login.lower() not in {known.lower() for known in logins}:
                logins.append(login)
        return logins[:10]  # GitHub keeps at most ten assignees

    def _update_issue(self, call: _Call) -> _Answer:
        repo, issue = self._issue_for(call)
        self._apply_issue_changes(repo, issue, call.body if isinstance(call.body, dict) else {})
        return _Answer(200, self._issue_json(repo, issue))

    def _list_comments(self, call: _Call) -> _Answer:
        repo, issue = self._issue_for(call)
        comments = [self._comments[cid] for cid in issue.comment_ids]
        if "since" in call.query:
            since = _timestamp(str(call.query["since"]), 0)
            comments = [c for c in comments if c.updated_at >= since]
        return self._page(call, [self._comment_json(repo, c) for c in comments])

    def _list_repo_comments(self, call: _Call) -> _Answer:
        repo = self._repo_for(call)
        comments = [c for c in self._comments.values()
                    if c.repo.lower() == repo.full_name.lower()]
        if "since" in call.query:
            since = _timestamp(str(call.query["since"]), 0)
            comments = [c for c in comments if c.updated_at >= since]
        by_updated = call.query.get("sort") == "updated"
        comments.sort(key=lambda c: (c.updated_at if by_updated else c.created_at, c.id),
                      reverse=call.query.get("direction") == "desc")
        return self._page(call, [self._comment_json(repo, c) for c in comments])

    def _create_comment(self, call: _Call) -> _Answer:
        repo, issue = self._issue_for(call)
        text = call.body["body"]
        self._check_body_length(text)
        author = self._author(call)
        comment_id = self.add_comment(repo.full_name, issue.number, text, author.login,
                                      author.type)
        self._touch(issue)
        comment = self._comment_json(repo, self._comments[comment_id])
        return _Answer(201, comment, {"location": comment["url"]})

    def _get_comment(self, call: _Call) -> _Answer:
        repo, comment = self._comment_for(call)
        return _Answer(200, self._comment_json(repo, comment))

    def _update_comment(self, call: _Call) -> _Answer:
        repo, comment = self._comment_for(call)
        self._check_body_length(call.body["body"])
        comment.body = call.body["body"]
        comment.updated_at = max(self.clock(), comment.updated_at)
        return _Answer(200, self._comment_json(repo, comment))

    def _delete_comment(self, call: _Call) -> _Answer:
        repo, comment = self._comment_for(call)
        del self._comments[comment.id]
        issue = repo.issues.get(comment.issue_number)
        if issue is not None and comment.id in issue.comment_ids:
            issue.comment_ids.remove(comment.id)
        return _Answer(204)

    def _create_reaction(self, call: _Call) -> _Answer:
        _, comment = self._comment_for(call)
        author = self._author(call)
        content = str(call.body["content"])
        for reaction in comment.reactions:
            if reaction.user is author and reaction.content == content:
                return _Answer(200, self._reaction_json(reaction))
        reaction = FakeReaction(next(self._ids), author, content, self.clock())
        comment.reactions.append(reaction)
        return _Answer(201, self._reaction_json(reaction))

    def _reaction_json(self, reaction: FakeReaction) -> JsonDict:
        return {"id": reaction.id, "node_id": _node_id("Reaction", reaction.id),
                "user": self._user_json(reaction.user), "content": reaction.content,
                "created_at": iso(reaction.created_at)}

    # labels

    def _list_repo_labels(self, call: _Call) -> _Answer:
        repo = self._repo_for(call)
        return self._page(call, [self._label_json(repo, label) for label in repo.labels.values()])

    def _create_label(self, call: _Call) -> _Answer:
        repo = self._repo_for(call)
        name = str(call.body["name"])
        if name.lower() in repo.labels:
            raise ApiError(422, "Validation Failed", errors=[
                {"resource": "Label", "code": "already_exists", "field": "name"}])
        label = self._label(repo, name, str(call.body.get("color") or "ededed").lstrip("#"),
                            call.body.get("description"))
        return _Answer(201, self._label_json(repo, label))

    def _label_for(self, call: _Call) -> tuple[FakeRepo, FakeLabel]:
        repo = self._repo_for(call)
        label = repo.labels.get(call.params["name"].lower())
        if label is None:
            raise ApiError(404, "Not Found")
        return repo, label

    def _get_label(self, call: _Call) -> _Answer:
        repo, label = self._label_for(call)
        return _Answer(200, self._label_json(repo, label))

    def _update_label(self, call: _Call) -> _Answer:
        repo, label = self._label_for(call)
        body = call.body if isinstance(call.body, dict) else {}
        new_name = body.get("new_name")
        if new_name and new_name.lower() != label.name.lower():
            if new_name.lower() in repo.labels:
                raise ApiError(422, "Validation Failed", errors=[
                    {"resource": "Label", "code": "already_exists", "field": "name"}])
            del repo.labels[label.name.lower()]
            for issue in repo.issues.values():
                issue.labels = [new_name if n == label.name else n for n in issue.labels]
            label.name = new_name
            repo.labels[new_name.lower()] = label
        if body.get("color"):
            label.color = str(body["color"]).lstrip("#")
        if "description" in body:
            label.description = body["description"]
        return _Answer(200, self._label_json(repo, label))

    def _issue_labels_answer(self, repo: FakeRepo, issue: FakeIssue) -> _Answer:
        return _Answer(200, [self._label_json(repo, self._label(repo, name))
                             for name in issue.labels])

    def _list_issue_labels(self, call: _Call) -> _Answer:
        repo, issue = self._issue_for(call)
        chunk, headers = self._paginate(
            call, [self._label_json(repo, self._label(repo, n)) for n in issue.labels])
        return _Answer(200, chunk, headers)

    def _labels_in_body(self, body: Json) -> list[Json]:
        if isinstance(body, dict):
            return list(body.get("labels") or [])
        return list(body) if isinstance(body, list) else []

    def _add_labels(self, call: _Call) -> _Answer:
        repo, issue = self._issue_for(call)
        issue.labels = self._label_names(
            repo, [*issue.labels, *self._labels_in_body(call.body)])
        self._touch(issue)
        return self._issue_labels_answer(repo, issue)

    def _set_labels(self, call: _Call) -> _Answer:
        repo, issue = self._issue_for(call)
        issue.labels = self._label_names(repo, self._labels_in_body(call.body))
        self._touch(issue)
        return self._issue_labels_answer(repo, issue)

    def _remove_label(self, call: _Call) -> _Answer:
        repo, issue = self._issue_for(call)
        name = call.params["name"].lower()
        if name not in {n.lower() for n in issue.labels}:
            raise ApiError(404, "Label does not exist")
        issue.labels = [n for n in issue.labels if n.lower() != name]
        self._touch(issue)
        return self._issue_labels_answer(repo, issue)

    def _add_assignees(self, call: _Call) -> _Answer:
        repo, issue = self._issue_for(call)
        issue.assignees = self._logins([*issue.assignees, *(call.body or {}).get("assignees", [])])
        self._touch(issue)
        return _Answer(201, self._issue_json(repo, issue))

    def _remove_assignees(self, call: _Call) -> _Answer:
        repo, issue = self._issue_for(call)
        gone = {self._login(a).lower() for a in (call.body or {}).get("assignees", [])}
        issue.assignees = [a for a in issue.assignees if a.lower() not in gone]
        self._touch(issue)
        return _Answer(200, self._issue_json(repo, issue))
