"""The published OpenAPI document, and checks of real replies against it.

``validate_response`` checks one reply against the schema documented for its operation and status
(resolving every ``$ref`` against the document); test_openapi and test_fuzz both use it.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from martingale.api.docs import SPEC

DOC: dict[str, Any] = json.loads(SPEC.read_text())
BASE = "urn:martingale:openapi"
REGISTRY = Registry().with_resource(
    BASE, Resource.from_contents(DOC, default_specification=DRAFT202012)
)
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def escape(part: str) -> str:
    """One JSON pointer segment."""
    return part.replace("~", "~0").replace("/", "~1")


def resolve(pointer: str) -> Any:
    """A local JSON pointer (``/components/...``) into the document."""
    return REGISTRY.resolver(BASE).lookup(f"{BASE}#{pointer}").contents


@cache
def _validator(pointer: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{BASE}#{pointer}"}, registry=REGISTRY)


def response_spec(method: str, template: str, status: int) -> tuple[str, dict[str, Any]]:
    """The documented response and its pointer; fails if this status is not documented."""
    operation = DOC["paths"][template][method.lower()]
    key = str(status)
    assert key in operation["responses"], (
        f"{method.upper()} {template} answered {status}, which the document does not list"
    )
    spec = operation["responses"][key]
    if "$ref" in spec:
        pointer = spec["$ref"].removeprefix("#")
        return pointer, resolve(pointer)
    parts = ("paths", template, method.lower(), "responses", key)
    return "/" + "/".join(escape(p) for p in parts), spec


def check_body(pointer: str, body: Any) -> None:
    problems = sorted(_validator(pointer).iter_errors(body), key=lambda e: list(e.path))
    assert not problems, f"{pointer}: " + "; ".join(
        f"{list(e.absolute_path)}: {e.message}" for e in problems[:5]
    )


def validate_response(method: str, template: str, response) -> None:
    """The reply's status, body and headers are as documented for this operation."""
    pointer, spec = response_spec(method, template, response.status_code)
    assert response.mimetype == "application/json"
    check_body(f"{pointer}/content/application~1json/schema", response.get_json())
    headers = spec.get("headers", {})
    for name, header in headers.items():
        if "$ref" in header:
            header = resolve(header["$ref"].removeprefix("#"))
        assert name in response.headers, f"documented header {name} missing"
        value: Any = response.headers[name]
        if header["schema"].get("type") == "integer":
            value = int(value)
        Draft202012Validator(header["schema"]).validate(value)
    assert ("Idempotent-Replayed" in response.headers) == ("Idempotent-Replayed" in headers)


def call(client, method: str, template: str, status: int, *, ref: Any = None, **kwargs):
    """Make a request to a documented path, check its status and validate the reply."""
    url = template.replace("{ref}", str(ref))
    response = getattr(client, method)(url, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)
    validate_response(method, template, response)
    return response


def error_codes(response: dict[str, Any]) -> set[str]:
    """The codes a documented error response allows (from its ``allOf`` refinement)."""
    if "$ref" in response:
        response = resolve(response["$ref"].removeprefix("#"))
    schema = response["content"]["application/json"]["schema"]
    (refinement,) = [part for part in schema["allOf"] if "$ref" not in part]
    return set(refinement["properties"]["error"]["properties"]["code"]["enum"])


def operations():
    for template, item in DOC["paths"].items():
        for method in METHODS:
            if method in item:
                yield template, method, item[method]
