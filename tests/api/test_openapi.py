"""The OpenAPI document matches the routes, and real replies match the document."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator
from sqlalchemy.exc import OperationalError

from martingale import engine, errors, reports, validators
from martingale.engine import MarketEngine

from ..helpers import new_asset
from ..process_helpers import migrate, start_web
from .helpers import API, PASSWORD, bearer, cookie_login, register
from .openapi_spec import (
    DOC,
    METHODS,
    call,
    check_body,
    error_codes,
    escape,
    operations,
    resolve,
    response_spec,
    validate_response,
)

SERVER_REFUSAL = "414"  # the one reply the app never sees: the server refuses the request line

# -- the document itself ----------------------------------------------------------------------


def _walk(node: Any, path: str = ""):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}/{escape(key)}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}/{i}")


def test_the_document_is_openapi_3_1_and_every_ref_and_schema_is_sound():
    assert DOC["openapi"].startswith("3.1.")
    assert DOC["info"]["title"] and DOC["info"]["version"]
    for path, node in _walk(DOC):
        if isinstance(node.get("$ref"), str):
            resolve(node["$ref"].removeprefix("#"))  # raises if it points nowhere
        if path.endswith("/schema") or re.fullmatch(r"/components/schemas/[^/]+", path):
            Draft202012Validator.check_schema(node)
    ids = [op["operationId"] for _, _, op in operations()]
    assert len(ids) == len(set(ids))
    schemes = DOC["components"]["securitySchemes"]
    assert (schemes["bearerAuth"]["type"], schemes["bearerAuth"]["scheme"]) == ("http", "bearer")
    assert schemes["cookieAuth"]["in"] == "cookie"


def test_every_response_is_json_and_every_error_has_the_error_shape():
    for template, method, op in operations():
        assert "500" in op["responses"], (method, template)
        for status, response in op["responses"].items():
            if status == SERVER_REFUSAL:  # gunicorn's page, before the app
                assert response == {"$ref": "#/components/responses/UriTooLong"}
                continue
            if "$ref" in response:
                response = resolve(response["$ref"].removeprefix("#"))
            assert set(response["content"]) == {"application/json"}, (method, template, status)
            if int(status) >= 400 and template.startswith("/api/"):
                pointer, _ = response_spec(method, template, int(status))
                schema = f"{pointer}/content/application~1json/schema"
                for code in error_codes(op["responses"][status]):
                    check_body(schema, {"error": {"code": code, "message": "m"}})
                with pytest.raises(AssertionError):
                    check_body(schema, {"error": {"code": "no_such_code", "message": "m"}})
                with pytest.raises(AssertionError):
                    check_body(schema, {"error": "flat"})


def _domain_errors(cls=errors.MartingaleError):
    """Every refusal with a code of its own (the bases only lend their status)."""
    for sub in cls.__subclasses__():
        if "code" in vars(sub):
            yield sub
        yield from _domain_errors(sub)


def test_every_reachable_error_code_is_documented_with_its_status():
    documented: set[tuple[str, int]] = set()
    for template, _, op in operations():
        for status, response in op["responses"].items():
            if int(status) >= 400 and template.startswith("/api/") and status != SERVER_REFUSAL:
                documented |= {(code, int(status)) for code in error_codes(response)}
    codes = {(cls.code, cls.status) for cls in _domain_errors()}
    assert (errors.InvalidJson.code, errors.InvalidJson.status) in codes
    unreachable = {
        ("origin_not_allowed", 403),  # only a preflight's (OPTIONS): the info description says so
    }
    assert codes - unreachable <= documented, sorted(codes - unreachable - documented)
    by_code = dict(codes)
    for code, status in documented:  # a domain code is never documented with another status
        assert by_code.get(code, status) == status, (code, status)
    # and the codes the HTTP layer adds (security.py) rather than a domain error
    assert {("csrf_failed", 403), ("rate_limited", 429), ("internal_error", 500)} <= documented
    assert {c for c, _ in documented} - set(by_code) <= {
        "csrf_failed",
        "rate_limited",
        "internal_error",
    }


def test_every_flask_route_is_documented_with_its_methods_and_nothing_else(app):
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        if path.startswith("/api/v1/") or path in ("/healthz", "/readyz"):
            routes.setdefault(path, set()).update(rule.methods - {"HEAD", "OPTIONS"})
    documented = {
        template: {m.upper() for m in METHODS if m in item}
        for template, item in DOC["paths"].items()
    }
    assert routes == documented
    for template, method, op in operations():
        names = set(re.findall(r"{([^}]+)}", template))
        params = [
            resolve(p["$ref"].removeprefix("#")) if "$ref" in p else p
            for p in op.get("parameters", [])
        ]
        assert {p["name"] for p in params if p["in"] == "path"} == names, (method, template)
        assert all(p["required"] for p in params if p["in"] == "path")


def test_the_api_serves_the_document(client):
    r = client.get(f"{API}/openapi.json")
    assert r.status_code == 200 and r.get_json() == DOC
    validate_response("get", "/api/v1/openapi.json", r)


# -- real replies against the document --------------------------------------------------------


def test_probe_replies_match_the_document(client, game, monkeypatch):
    call(client, "get", "/healthz", 200)
    call(client, "get", "/readyz", 503)
    MarketEngine(game).step()
    call(client, "get", "/readyz", 200)

    def database_down(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(engine, "read", database_down)
    r = call(client, "get", "/readyz", 503)
    assert r.get_json() == {"status": "unavailable", "database": False}


def test_market_replies_match_the_document(client, game, clock):
    MarketEngine(game).step()  # a pool of randomly drawn assets
    asset = new_asset(game, initial="3.5", drift="-0.0001", volatility="0.05", lifetime_s="30")
    alice = register(client)
    r = call(client, "get", "/api/v1/assets", 200)
    assert len(r.get_json()["assets"]) == 5
    call(client, "get", "/api/v1/tape", 200)
    call(client, "get", "/api/v1/leaderboard", 200)
    for quantity, side in (("10", "buy"), ("4", "sell")):
        r = client.post(
            f"{API}/trades",
            json={"symbol": asset.symbol, "side": side, "quantity": quantity},
            headers={**bearer(alice), "Idempotency-Key": side},
        )
        assert r.status_code == 201
    clock.advance(5)
    MarketEngine(game).step()
    hist = "/api/v1/assets/{ref}/history"
    for ref in (asset.symbol, asset.id):
        call(client, "get", hist, 200, ref=ref)
        call(client, "get", hist, 200, ref=ref, query_string={"since_tick": 2, "limit": 2})
    call(client, "get", hist, 404, ref="ZZZZ")
    call(client, "get", hist, 400, ref=asset.id, query_string={"limit": 0})
    proof = "/api/v1/assets/{ref}/proof"
    assert "seed" not in call(client, "get", proof, 200, ref=asset.symbol).get_json()
    call(client, "get", proof, 404, ref=999_999)
    assert len(call(client, "get", "/api/v1/tape", 200).get_json()["tape"]) == 2
    assert len(call(client, "get", "/api/v1/leaderboard", 200).get_json()["leaderboard"]) == 1
    call(client, "get", "/api/v1/tape", 400, query_string={"limit": 201})
    call(client, "get", "/api/v1/leaderboard", 400, query_string={"limit": "x"})

    clock.advance(30)
    MarketEngine(game).step()  # settles the asset
    settled = call(client, "get", proof, 200, ref=asset.id).get_json()
    assert settled["status"] == "settled" and "seed" in settled
    call(client, "get", proof, 200, ref=asset.symbol)
    call(client, "get", hist, 404, ref=asset.symbol)
    call(client, "get", hist, 200, ref=asset.id)


def test_account_and_trade_replies_match_the_document(client, game, clock):
    asset = new_asset(game, initial="100", lifetime_s="30")
    alice = call(
        client,
        "post",
        "/api/v1/auth/register",
        201,
        json={"username": "alice", "password": PASSWORD},
    ).get_json()
    auth = bearer(alice)
    call(client, "get", "/api/v1/portfolio", 200, headers=auth)
    for path in (
        "/api/v1/portfolio",
        "/api/v1/trades",
        "/api/v1/settlements",
        "/api/v1/performance/history",
    ):
        call(client, "get", path, 401)
        call(client, "get", path, 401, headers=bearer("forged"))
        call(client, "get", path, 200, headers=auth)

    trades = "/api/v1/trades"

    def order(status, side="buy", quantity="1", key="k1", symbol=asset.symbol, headers=auth):
        body = {"symbol": symbol, "side": side, "quantity": quantity}
        key_header = {} if key is None else {"Idempotency-Key": key}
        return call(client, "post", trades, status, json=body, headers={**headers, **key_header})

    order(201)
    replay = order(200)
    assert replay.headers["Idempotent-Replayed"] == "true"
    clock.advance(2)
    sold = order(201, side="sell", quantity="0.5", key="k2").get_json()
    assert "realized_pnl" in sold["trade"]
    assert sold["portfolio"]["holdings"][0]["quantity"] == "0.50000000"
    order(409, quantity="2")  # duplicate_request
    order(409, quantity="5000", key="k3")  # insufficient_funds
    order(409, side="sell", quantity="7", key="k4")  # insufficient_holdings
    order(404, symbol="ZZZZ", key="k5")
    for bad in (
        {"side": "hold"},
        {"symbol": "A1"},
        {"quantity": 0.1},
        {"key": None},
        {"quantity": "1000000000"},
    ):
        order(422, **{"key": "k6", **bad})
    call(client, "post", trades, 400, data="[]", content_type="application/json", headers=auth)
    call(client, "post", trades, 401, json={})
    call(client, "post", trades, 401, json={}, headers=bearer("forged"))
    call(client, "get", trades, 200, headers=auth, query_string={"limit": 1, "before": 99})
    call(client, "get", trades, 400, headers=auth, query_string={"limit": 501})
    call(client, "get", "/api/v1/settlements", 400, headers=auth, query_string={"limit": 0})
    call(
        client,
        "get",
        "/api/v1/performance/history",
        400,
        headers=auth,
        query_string={"points": 601},
    )

    clock.advance(30)
    order(409, key="k7")  # asset_not_tradable
    MarketEngine(game).step()
    rows = call(client, "get", "/api/v1/settlements", 200, headers=auth).get_json()
    assert len(rows["settlements"]) == 1
    assert len(call(client, "get", trades, 200, headers=auth).get_json()["trades"]) == 2
    call(client, "get", "/api/v1/performance/history", 200, headers=auth)
    call(client, "post", "/api/v1/auth/logout", 200, headers=auth)
    call(client, "post", "/api/v1/auth/logout", 401, headers=auth)


def test_account_names_replies_match_the_document(app, client, game):
    account = "/api/v1/account"
    alice = register(client, "alice", display_name="Queen of Hearts")
    register(client, "bob", display_name="Knave")
    auth = bearer(alice)
    call(client, "get", account, 200, headers=auth)
    call(client, "get", account, 401)
    call(client, "patch", account, 200, json={"display_name": "Red Queen"}, headers=auth)
    call(client, "patch", account, 409, json={"display_name": "KNAVE"}, headers=auth)
    call(client, "patch", account, 422, json={"display_name": "A1ice"}, headers=auth)
    call(client, "patch", account, 422, json={"display_name": "?"}, headers=auth)
    call(client, "patch", account, 400, data="x", headers=auth)
    call(client, "patch", account, 401, json={"display_name": "Someone"})
    web_client = app.test_client()
    cookie_login(game, web_client, "carol")
    call(web_client, "patch", account, 403, json={"display_name": "Someone"})
    register_ = "/api/v1/auth/register"
    call(client, "post", register_, 409, json={"username": "dan", "password": PASSWORD,
                                               "display_name": "Red Queen"})  # fmt: skip
    call(client, "post", register_, 422, json={"username": "dan", "password": PASSWORD,
                                               "display_name": "Dan"})  # fmt: skip


def test_trades_are_rate_limited_per_player(client, game):
    alice, bob = register(client, "alice"), register(client, "bob")
    statuses = []
    for _ in range(200):  # 50 per second: refused orders count too, and are quick
        r = client.post(
            f"{API}/trades",
            json={"side": "hold"},
            headers={**bearer(alice), "Idempotency-Key": "k"},
        )
        statuses.append(r.status_code)
        if r.status_code == 429:
            validate_response("post", "/api/v1/trades", r)
            break
    assert statuses[-1] == 429 and set(statuses[:-1]) == {422}
    r = client.post(
        f"{API}/trades", json={"side": "hold"}, headers={**bearer(bob), "Idempotency-Key": "k"}
    )
    assert r.status_code == 422  # another player's budget is untouched


def test_auth_replies_match_the_document(app, client, game):
    register_, login = "/api/v1/auth/register", "/api/v1/auth/login"
    refresh, password = "/api/v1/auth/refresh", "/api/v1/auth/password"
    alice = register(client, "alice")
    call(client, "post", register_, 409, json={"username": "ALICE", "password": PASSWORD})
    call(client, "post", register_, 422, json={"username": "x", "password": PASSWORD})
    call(client, "post", register_, 422, json={"username": "dave", "password": "x"})
    call(client, "post", register_, 400, data="x")
    pair = call(client, "post", login, 200, json={"username": "alice", "password": PASSWORD})
    call(client, "post", login, 401, json={"username": "alice", "password": "wrong-pw"})
    call(client, "post", login, 400, json=["alice"])
    fresh = call(client, "post", refresh, 200, json=pair.get_json()).get_json()
    call(client, "post", refresh, 401, json=pair.get_json())  # reused: the session ends
    call(client, "post", refresh, 401, json=fresh)
    call(client, "post", refresh, 400, data="null", content_type="application/json")
    auth = bearer(alice)
    change = {"current_password": "wrong-pw", "new_password": "brand-new-1"}
    call(client, "post", password, 403, json=change, headers=auth)
    call(client, "post", password, 422, json={**change, "new_password": "x"}, headers=auth)
    call(client, "post", password, 400, data="x", headers=auth)
    call(client, "post", password, 401, json=change)
    new = call(
        client, "post", password, 200, json={**change, "current_password": PASSWORD}, headers=auth
    ).get_json()
    call(client, "post", password, 401, json=change, headers=auth)  # the old token is dead
    assert new["user"] == alice["user"]

    web_client = app.test_client()  # a browser: cookie writes without a CSRF token
    cookie_login(game, web_client, "carol")
    for path in (register_, login, refresh, password, "/api/v1/auth/logout", "/api/v1/trades"):
        call(web_client, "post", path, 403, json={})

    for _ in range(10):  # the same client address as every call above
        client.post(login, json={"username": "alice", "password": "wrong-pw"})
    call(client, "post", login, 429, json={"username": "alice", "password": "wrong-pw"})


def test_unknown_paths_and_methods_match_the_shared_responses(client, game):
    for url, name in (
        (f"{API}/nope", "NotFound"),
        (f"{API}/assets/1", "NotFound"),
        (f"{API}/assets", "MethodNotAllowed"),
    ):
        r = client.post(url)
        check_body(f"/components/responses/{name}/content/application~1json/schema", r.get_json())


def test_an_unexpected_failure_is_a_documented_500(client, game, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(reports, "tape", boom)
    with client.expect_unhandled_error():
        r = call(client, "get", "/api/v1/tape", 500)
    assert "secret internals" not in r.get_data(as_text=True)


# -- documented parameter ranges are the server's ---------------------------------------------


def _integer_query_parameters():
    for template, method, op in operations():
        for param in op.get("parameters", []):
            if "$ref" in param:
                param = resolve(param["$ref"].removeprefix("#"))
            if param["in"] == "query" and param["schema"]["type"] == "integer":
                yield pytest.param(
                    template, method, param, id=f"{op['operationId']}-{param['name']}"
                )


def _url(game, template: str) -> str:
    return template.replace("{ref}", str(new_asset(game).id))


@pytest.mark.parametrize(("template", "method", "param"), list(_integer_query_parameters()))
def test_documented_bounds_of_integer_parameters_are_accepted(
    client, game, request, backend, template, method, param
):
    schema = param["schema"]
    auth = bearer(register(client))
    url = _url(game, template)
    for value in (schema["minimum"], schema["maximum"], schema.get("default", "")):
        r = getattr(client, method)(url, query_string={param["name"]: value}, headers=auth)
        assert r.status_code == 200, (value, r.get_data(as_text=True))
        validate_response(method, template, r)


@pytest.mark.parametrize(("template", "method", "param"), list(_integer_query_parameters()))
def test_values_outside_the_documented_bounds_are_400(client, game, template, method, param):
    schema = param["schema"]
    auth = bearer(register(client))
    url = _url(game, template)
    for value in (schema["minimum"] - 1, schema["maximum"] + 1, "1.0", "x"):
        r = getattr(client, method)(url, query_string={param["name"]: value}, headers=auth)
        assert r.status_code == 400, (value, r.get_data(as_text=True))
        validate_response(method, template, r)
        assert r.get_json()["error"]["code"] == "invalid_parameter"


@pytest.mark.parametrize(("template", "method", "param"), list(_integer_query_parameters()))
def test_an_empty_integer_parameter_is_accepted_and_documented_so(
    client, game, template, method, param
):
    """``?limit=`` means the default (access.int_arg): the document must admit the empty value
    (allowEmptyValue), else it forbids a request the server accepts. schemathesis' negative case
    GET /api/v1/tape?limit= found it."""
    auth = bearer(register(client))
    url = _url(game, template)
    r = getattr(client, method)(url, query_string={param["name"]: ""}, headers=auth)
    assert r.status_code == 200, r.get_data(as_text=True)
    validate_response(method, template, r)
    assert param.get("allowEmptyValue") is True, f"{template} {param['name']}"


def test_the_documented_quantity_pattern_is_the_validators_grammar():
    schema = DOC["components"]["schemas"]["TradeRequest"]["properties"]["quantity"]
    [text] = [s for s in schema["oneOf"] if s["type"] == "string"]
    assert text["pattern"] == f"^{validators.QUANTITY.pattern}$"
    assert text["maxLength"] == len("1" * 64)
    documented = re.compile(text["pattern"])
    for sample in ("1", "0.5", "1.12345678", "1.", ".5", "+1", "1e2", "1_000", " 1", "\uff11"):
        assert bool(documented.search(sample)) == bool(validators.QUANTITY.fullmatch(sample))


def test_a_request_line_too_long_for_the_server_is_a_documented_414(tmp_path):
    """gunicorn refuses a request line over its limit_request_line (4,094 bytes) before the app
    reads it: 414 and gunicorn's own HTML page. bench/fuzz.py met it (GET /api/v1/trades with a
    long generated query) where the document listed no such reply."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'game.db'}", "WEB_CONCURRENCY": "1",
           "MARTINGALE_ENGINE": "off", "MARTINGALE_ACCESS_LOG": ""}  # fmt: skip
    migrate(env, tmp_path)
    command = 'gunicorn --config gunicorn.conf.py "martingale:create_app()"'  # as `make run`
    web, url = start_web(env, tmp_path, command=command)
    try:
        for template, method, _ in operations():
            path = template.replace("{ref}", "1")
            r = requests.request(method, f"{url}{path}?pad={'x' * 4100}", timeout=10)
            assert r.status_code == 414, (method, template, r.status_code)
            _, spec = response_spec(method, template, 414)
            assert r.headers["Content-Type"].split(";")[0] in spec["content"], (method, template)
            short = requests.request(method, f"{url}{path}?pad={'x' * 3900}", timeout=10)
            assert short.status_code != 414  # the limit is the server's, not lower
    finally:
        web.stop()
