"""Every API test talks to the app through one checked client."""

from __future__ import annotations

import pytest

from .helpers import CheckedClient


@pytest.fixture
def client(app, game):
    # every client the app makes from now on is checked, also a second one a test opens itself
    app.test_client_class = CheckedClient
    return app.test_client()
