"""The OpenAPI 3.1 document, generated from the app's routes and the operations declared on them.

Every /api route must declare one (``@operation``); other routes appear when they do (the
probes). The request and reply models give the schemas (pydantic writes JSON Schema 2020-12,
OpenAPI 3.1's own dialect), types.py the scalar components, this module what every document
has. The output is deterministic: ``render`` is what api/openapi.json holds.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .. import cors, names, validators
from ..config import DEFAULTS
from .operations import (
    PASSWORD_RATE_LIMITED,
    RATE_HEADERS,
    RATE_LIMITED,
    Auth,
    Operation,
    Refusal,
    Reply,
    operation_of,
)
from .replies import Error
from .requests import Query, bounds
from .types import COMPONENT, SCALARS

SCHEMAS = "#/components/schemas/"
WRITES = ("POST", "PUT", "PATCH", "DELETE")
MAX_BODY = int(DEFAULTS["MARTINGALE_MAX_BODY_BYTES"])


def _shared(name: str, status: int, description: str, *codes: str) -> Refusal:
    return Refusal(status, description, codes, name=name)


UNAUTHORIZED = _shared("Unauthorized", 401, (
    "No credentials (unauthorized), or a bearer token that is malformed, expired or whose session"
    " has ended (invalid_token)."
), "unauthorized", "invalid_token")  # fmt: skip
INVALID_PARAMETER = _shared("InvalidParameter", 400, (
    "A query parameter is not an integer in its documented range."
), "invalid_parameter")  # fmt: skip
INVALID_JSON = _shared("InvalidJson", 400, (
    "The body is not a JSON object (wrong content type, malformed, or another JSON type)."
), "invalid_json")  # fmt: skip
CSRF_FAILED = _shared("CsrfFailed", 403, (
    "Cookie-authenticated write (a session cookie and no bearer token) without a valid"
    " X-CSRFToken header."
), "csrf_failed")  # fmt: skip
INTERNAL_ERROR = _shared("InternalError", 500, (
    "An unexpected failure; nothing was changed."
), "internal_error")  # fmt: skip
NOT_FOUND = _shared("NotFound", 404, "No route at this /api path.", "not_found")
METHOD_NOT_ALLOWED = _shared("MethodNotAllowed", 405, (
    "The path exists, the method does not."
), "method_not_allowed")  # fmt: skip
PAYLOAD_TOO_LARGE = _shared("PayloadTooLarge", 413, (
    "The request body is over the server's limit (MARTINGALE_MAX_BODY_BYTES,"
    f" {MAX_BODY} bytes by default): refused before it was read, or, sent in chunks without a"
    " Content-Length, as soon as the limit was passed."
), "payload_too_large")  # fmt: skip
SHARED = (UNAUTHORIZED, INVALID_PARAMETER, INVALID_JSON, CSRF_FAILED, RATE_LIMITED,
          PASSWORD_RATE_LIMITED, INTERNAL_ERROR, NOT_FOUND, METHOD_NOT_ALLOWED,
          PAYLOAD_TOO_LARGE)  # fmt: skip
URI_TOO_LONG = {
    "description": "The request line (method, path and query string) is over 4,094 bytes: the"
    " HTTP server (gunicorn's limit_request_line) refuses it before the app reads it, so the"
    " body is the server's HTML page, not the JSON error shape, and nothing was changed.",
    "content": {"text/html": {"schema": {"type": "string"}}},
}
INFO = {
    "title": "Martingale API",
    "version": "1",
    "summary": "A realtime play-money trading game: no real money or securities.",
    "description": "JSON only. Money is a decimal string with 6 places, prices and quantities"
    " have 8; times are ISO 8601 UTC with milliseconds and Z.\n\nErrors, on every /api path, are"
    ' `{"error": {"code", "message"}}` and mean nothing was changed; a path that does not exist'
    " answers 404 not_found and a method the path lacks 405 method_not_allowed"
    " (components/responses NotFound and MethodNotAllowed), a request body over"
    f" {MAX_BODY // 1024} KiB (by default) 413 payload_too_large, unread; an unexpected failure"
    " 500 internal_error.\n\nAuthentication: `Authorization: Bearer <access token>` (from"
    " register, login, refresh or a password change), or the web session cookie. A bearer"
    " token, when sent, wins over the cookie. Writes authenticated by the cookie need an"
    " X-CSRFToken header.\n\nRate limits (per client address; trades and reads per player when"
    " authenticated): every response of a limited operation carries X-RateLimit-Limit,"
    " X-RateLimit-Remaining, X-RateLimit-Reset and Retry-After; past the limit the answer is"
    " 429 rate_limited.\n\nCross-origin (browsers): the Capacitor wrappers' origins"
    f" ({' and '.join(cors.CAPACITOR_ORIGINS)}) and those the server lists in"
    " MARTINGALE_CORS_ORIGINS may call the API. Their preflight allows"
    f" {', '.join(cors.METHODS)} with the headers {', '.join(cors.REQUEST_HEADERS)}"
    f" (Access-Control-Max-Age {cors.MAX_AGE_S}); their replies carry Access-Control-Allow-Origin"
    f" and expose {', '.join(cors.EXPOSED_HEADERS)}. No credentials: a cross-origin caller sends"
    " a bearer token. Any other origin's preflight is refused (403 origin_not_allowed) and its"
    " replies carry no CORS header; every reply varies by Origin.",
}
TAGS = [
    {"name": "auth", "description": "Accounts and sessions."},
    {"name": "market", "description": "Public market data."},
    {"name": "account", "description": "The caller's own account."},
    {"name": "operations", "description": "Probes and this document."},
]
SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http", "scheme": "bearer", "bearerFormat": "signed session token",
        "description": "An access token; it stops working at once when its session ends"
        " (logout, password change, a reused refresh token).",
    },
    "cookieAuth": {
        "type": "apiKey", "in": "cookie", "name": "session",
        "description": "The web login's signed session cookie; writes also need the X-CSRFToken"
        " header.",
    },
}  # fmt: skip
SECURITY: dict[str, list[dict[str, list[str]]]] = {
    Auth.PUBLIC: [],
    Auth.OPTIONAL: [{}, {"bearerAuth": []}, {"cookieAuth": []}],
    Auth.REQUIRED: [{"bearerAuth": []}, {"cookieAuth": []}],
}
PARAMETERS = {
    "AssetRef": {
        "name": "ref", "in": "path", "required": True,
        "description": "An asset id (digits) or a ticker symbol (case-insensitive).",
        "schema": {"type": "string", "pattern": "^([0-9]+|[A-Za-z]+)$"},
    },
    "PlayerName": {
        "name": "name", "in": "path", "required": True,
        "description": "A player's display name exactly as shown (case and spaces count),"
        " percent-encoded.",
        "schema": {"type": "string", "minLength": names.MIN_LENGTH, "maxLength": names.MAX_LENGTH,
                   # never a slash, nor a separator at either end: no display name has one
                   "pattern": "^[^/._\\s-]([^/]*[^/._\\s-])?$"},
    },
    "IdempotencyKey": {
        "name": "Idempotency-Key", "in": "header", "required": True,
        "description": f"1 to {validators.MAX_KEY} printable ASCII characters (0x21-0x7E), unique"
        " per player and request: the same key with the same request replays the first result"
        " (200 with Idempotent-Replayed: true); with a different request it answers 409"
        " duplicate_request. Missing or malformed: 422 invalid_idempotency_key.",
        "schema": {"type": "string", "minLength": 1, "maxLength": validators.MAX_KEY,
                   "pattern": f"^{validators.IDEMPOTENCY_KEY.pattern}$"},
    },
    "OrderKey": {
        "name": "key", "in": "path", "required": True,
        "description": "The Idempotency-Key the order was sent with, percent-encoded.",
        "schema": {"type": "string", "minLength": 1, "maxLength": validators.MAX_KEY,
                   "pattern": f"^{validators.IDEMPOTENCY_KEY.pattern}$"},
    },
    "CsrfToken": {
        "name": "X-CSRFToken", "in": "header", "required": False,
        "description": "Required when the request is authenticated by the session cookie (a"
        " session cookie is sent and no bearer token): otherwise 403 csrf_failed. Not needed"
        " with a bearer token.",
        "schema": {"type": "string"},
    },
}  # fmt: skip
HEADERS = {
    "X-RateLimit-Limit": "Requests allowed in the current window.",
    "X-RateLimit-Remaining": "Requests left in the current window.",
    "X-RateLimit-Reset": "When the window resets, in Unix seconds.",
    "Retry-After": "Seconds until the window resets.",
}
REPLAYED = {
    "description": "Present (and true) only when this reply replays an earlier trade made with"
    " the same Idempotency-Key and the same request.",
    "schema": {"type": "string", "const": "true"},
}
BODY = "A JSON object (Content-Type: application/json); anything else answers 400 invalid_json."


def build(app: Flask) -> dict[str, Any]:
    """The document of ``app``'s routes; an /api route without an operation is a bug."""
    paths: dict[str, dict[str, Any]] = {}
    models: set[type[BaseModel]] = {Error}
    for rule in app.url_map.iter_rules():
        op = operation_of(app.view_functions[rule.endpoint])
        if op is None:
            if rule.rule.startswith("/api/"):
                raise LookupError(f"{rule.rule} declares no @operation")
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(op, method, models)
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": INFO,
        "tags": TAGS,
        "paths": paths,
        "components": {
            "schemas": _schemas(models),
            "responses": {
                **{r.name: _refusal(r) for r in SHARED if r.name},
                "UriTooLong": URI_TOO_LONG,
            },
            "parameters": PARAMETERS,
            "headers": {
                **{
                    n: {"description": d, "schema": {"type": "integer"}} for n, d in HEADERS.items()
                },
                "Idempotent-Replayed": REPLAYED,
            },
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _operation(op: Operation, method: str, models: set[type[BaseModel]]) -> dict[str, Any]:
    write = method in WRITES
    entry: dict[str, Any] = {"operationId": op.id, "summary": op.summary, "tags": [op.tag]}
    described = " ".join(filter(None, [op.limit.description if op.limit else None, op.description]))
    if described:
        entry["description"] = described
    entry["security"] = SECURITY[op.auth]
    params = [_ref("parameters", p) for p in op.params]
    params += _query(op.query) if op.query else []
    params += [_ref("parameters", "CsrfToken")] if write else []
    if params:
        entry["parameters"] = params
    if op.body:
        models.add(op.body)
        entry["requestBody"] = {"required": True, "description": BODY, "content": _json(op.body)}
    implied: list[tuple[bool, Refusal]] = [
        (op.body is not None, INVALID_JSON),
        (op.query is not None, INVALID_PARAMETER),
        (op.auth != Auth.PUBLIC, UNAUTHORIZED),
        (write, CSRF_FAILED),
        (write, PAYLOAD_TOO_LARGE),
        (op.limit is not None, op.limit.refusal if op.limit else RATE_LIMITED),
        (True, INTERNAL_ERROR),
    ]
    replies: dict[int, Reply | Refusal] = {**op.replies}
    for applies, shared in implied:
        if applies:
            replies.setdefault(shared.status, shared)
    responses: dict[str, Any] = {"414": _ref("responses", "UriTooLong")}
    for status, reply in replies.items():
        responses[str(status)] = _reply(reply, op, models)
    entry["responses"] = dict(sorted(responses.items()))
    return entry


def _reply(reply: Reply | Refusal, op: Operation, models: set[type[BaseModel]]) -> dict[str, Any]:
    if isinstance(reply, Refusal):
        return _ref("responses", reply.name) if reply.name else _refusal(reply)
    found: dict[str, Any] = {"description": reply.description}
    kinds = reply.models if isinstance(reply.models, tuple) else (reply.models,)
    models.update(kinds)
    schema = {"oneOf": [_model(m) for m in kinds]} if len(kinds) > 1 else _model(kinds[0])
    found["content"] = {"application/json": {"schema": schema}}
    headers = [*reply.headers, *(RATE_HEADERS if op.limit and op.limit.headers else ())]
    if headers:
        found["headers"] = {name: _ref("headers", name) for name in headers}
    return found


def _refusal(refusal: Refusal) -> dict[str, Any]:
    codes = {"properties": {"error": {"properties": {"code": {"enum": list(refusal.codes)}}}}}
    found: dict[str, Any] = {
        "description": refusal.description,
        "content": {"application/json": {"schema": {"allOf": [_model(Error), codes]}}},
    }
    if refusal.headers:
        found["headers"] = {name: _ref("headers", name) for name in refusal.headers}
    return found


def _query(model: type[Query]) -> list[dict[str, Any]]:
    params = []
    for name, field in model.model_fields.items():
        low, high = bounds(field.metadata)
        schema: dict[str, Any] = {"type": "integer", "minimum": low, "maximum": high}
        if field.default is not None:
            schema["default"] = field.default
        params.append({
            "name": name, "in": "query", "required": False, "allowEmptyValue": True,
            "description": field.description, "schema": schema,
        })  # fmt: skip
    return params


def _schemas(models: set[type[BaseModel]]) -> dict[str, Any]:
    ordered = sorted(models, key=lambda m: m.__name__)
    _, found = models_json_schema(
        [(m, "validation") for m in ordered], ref_template=SCHEMAS + "{model}"
    )
    schemas = {**found.get("$defs", {}), **SCALARS}
    for schema in schemas.values():
        if "description" in schema:  # a docstring's line breaks are not the document's
            schema["description"] = " ".join(schema["description"].split())
    cleaned: dict[str, Any] = _clean(dict(sorted(schemas.items())))
    return cleaned


def _clean(node: Any, names: bool = False) -> Any:
    """pydantic's output as the document wants it: component markers as $refs; no titles and no
    null defaults (a member that may be absent is not thereby null)."""
    if isinstance(node, list):
        return [_clean(item) for item in node]
    if not isinstance(node, dict):
        return node
    if names:  # a mapping of property names, not a schema
        return {key: _clean(value) for key, value in node.items()}
    out = {"$ref": SCHEMAS + node[COMPONENT]} if COMPONENT in node else {}
    for key, value in node.items():
        if key in (COMPONENT, "title") or (key == "default" and value is None):
            continue
        out[key] = _clean(value, names=key in ("properties", "$defs"))
    return out


def _model(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": SCHEMAS + model.__name__}


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _json(model: type[BaseModel]) -> dict[str, Any]:
    return {"application/json": {"schema": _model(model)}}
