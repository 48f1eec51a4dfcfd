"""The document is generated from the code, and the schemas that generate it check requests."""

from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.datastructures import MultiDict

from martingale.api.docs import SPEC
from martingale.contract.document import build, render
from martingale.contract.operations import Reply, operation
from martingale.contract.replies import Health
from martingale.contract.requests import TapeQuery, TradeRequest
from martingale.errors import InvalidParameter, InvalidQuantity, InvalidSide

from .helpers import API, bearer, register


def test_the_committed_document_is_what_the_code_generates(app):
    assert SPEC.read_text() == render(build(app)), "regenerate: flask --app martingale openapi"


def test_an_api_route_that_declares_no_operation_stops_the_generator():
    app = Flask(__name__)
    app.add_url_rule("/api/v1/undocumented", "undocumented", lambda: "")
    with pytest.raises(LookupError, match="undocumented"):
        build(app)
    documented = Flask(__name__)

    @operation("health", "operations", {200: Reply(Health, "Alive.")})
    def view() -> str:
        """Alive."""
        return ""

    documented.add_url_rule("/probe", "probe", view)
    assert build(documented)["paths"]["/probe"]["get"]["summary"] == "Alive."


def test_a_body_is_checked_in_the_documented_order_with_the_domain_codes():
    with pytest.raises(InvalidSide):
        TradeRequest.parse({"quantity": 0.5})  # side first, even when missing
    with pytest.raises(InvalidQuantity):
        TradeRequest.parse({"side": " BUY ", "symbol": "abc", "quantity": 0.1})  # a float
    order = TradeRequest.parse({"side": "sell", "symbol": "abc", "quantity": 3, "extra": [1]})
    assert (order.side, order.symbol, order.quantity) == ("sell", "abc", 3)  # kept as sent


def test_a_query_bound_is_the_one_the_document_publishes():
    limit = TapeQuery.model_fields["limit"]
    assert TapeQuery.parse(MultiDict({"limit": ""})).limit == limit.default
    with pytest.raises(InvalidParameter, match="from 1 to 200"):
        TapeQuery.parse(MultiDict({"limit": "201"}))


def test_a_repeated_query_parameter_is_refused(client, game):
    """bench/fuzz.py sent GET /api/v1/trades?limit=&limit=<junk> and the server obeyed the first
    (empty: the default): the document describes one value, so several are refused."""
    r = client.get(f"{API}/tape?limit=5&limit=x")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_parameter"


def test_a_route_checks_with_the_model_it_documents(client, game, monkeypatch):
    """A handler that parsed with another model than its operation names fails loudly."""
    from martingale.api import market

    monkeypatch.setattr(market, "TapeQuery", TradeRequest)
    auth = bearer(register(client))
    with client.expect_unhandled_error():
        assert client.get(f"{API}/tape", headers=auth).status_code == 500
