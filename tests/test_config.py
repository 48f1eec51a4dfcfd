"""Configuration: documented defaults, exact parsing, and refusals that protect production."""

import secrets

import pytest

from martingale import create_app
from martingale.config import ConfigError, load_config, normalize_database_url


def test_defaults_are_the_documented_ones():
    config = load_config({})
    assert config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///martingale.db"
    assert str(config["INITIAL_CASH"]) == "100000"
    assert config["MARTINGALE_POOL_SIZE"] == 16
    assert [str(config[f"MARTINGALE_LIFETIME_{k}_SECONDS"]) for k in ("MIN", "MAX", "MEAN")] == [
        "300", "1800", "600",
    ]  # fmt: skip
    assert str(config["MARTINGALE_WORTHLESS_PRICE"]) == "0.01"
    assert config["MARTINGALE_CORS_ORIGINS"] == ()  # the Capacitor origins only (cors.py)
    assert config["SESSION_COOKIE_HTTPONLY"] and config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert not config["SESSION_COOKIE_SECURE"]
    assert config["MARTINGALE_TRUSTED_PROXIES"] == 0  # X-Forwarded-For ignored unless configured


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_heroku_style_urls_are_accepted(given, expected):
    assert normalize_database_url(given) == expected


def test_production_refuses_the_development_secret():
    with pytest.raises(ConfigError):
        load_config({"MARTINGALE_ENV": "production"})
    with pytest.raises(ConfigError):
        load_config({"MARTINGALE_ENV": "production", "SECRET_KEY": "short"})
    config = load_config({"MARTINGALE_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48)})
    assert config["SESSION_COOKIE_SECURE"]


@pytest.mark.parametrize(
    "env",
    [
        {"INITIAL_CASH": "lots"},
        {"MARTINGALE_TICK_SECONDS": "-1"},
        {"MARTINGALE_LIFETIME_MIN_SECONDS": "900", "MARTINGALE_LIFETIME_MAX_SECONDS": "300"},
        {"MARTINGALE_TRUSTED_PROXIES": "-1"},
        {"MARTINGALE_TRUSTED_PROXIES": "one"},
    ],
)
def test_malformed_settings_are_refused(env):
    with pytest.raises(ConfigError):
        load_config(env)


def test_tests_cannot_reach_a_non_temporary_database():
    with pytest.raises(ConfigError):
        create_app(load_config({"DATABASE_URL": "sqlite:////var/lib/martingale.db"}, TESTING=True))
    with pytest.raises(ConfigError):
        create_app(load_config({"DATABASE_URL": "postgresql://u@h/production"}, TESTING=True))


@pytest.mark.parametrize("name", ["Production ", "prod", "PRODUCTION", "staging", "dev", ""])
def test_unknown_environment_names_refuse_to_start(name):
    # a misspelt production must not start as development, with insecure cookies
    with pytest.raises(ConfigError, match="development, production"):
        load_config({"MARTINGALE_ENV": name, "SECRET_KEY": secrets.token_urlsafe(48)})


@pytest.mark.parametrize(
    "key",
    [
        "x" * 32,
        "x" * 200,
        "ab" * 32,
        "abcd" * 16,
        "0123456789" * 4,  # 10 distinct, in order: 40 characters but about 133 bits at most
        "password" * 5,
        secrets.token_urlsafe(48)[:31],  # random, but short
    ],
)
def test_production_refuses_a_short_or_low_entropy_secret(key):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config({"MARTINGALE_ENV": "production", "SECRET_KEY": key})


@pytest.mark.parametrize(
    "make_key",
    [
        lambda: secrets.token_urlsafe(48),  # what the README tells people to run
        lambda: secrets.token_urlsafe(32),
        lambda: secrets.token_hex(32),
    ],
)
def test_production_accepts_generated_secrets(make_key):
    for _ in range(200):  # random keys: the rule must not refuse an unlucky draw
        key = make_key()
        config = load_config({"MARTINGALE_ENV": "production", "SECRET_KEY": key})
        assert config["SESSION_COOKIE_SECURE"] and config["SECRET_KEY"] == key


def test_development_keeps_its_default_secret():
    config = load_config({"MARTINGALE_ENV": "development"})
    assert config["MARTINGALE_ENV"] == "development" and not config["SESSION_COOKIE_SECURE"]


def test_size_limits_default_to_64_kib_and_are_settings():
    config = load_config({})
    assert config["MAX_CONTENT_LENGTH"] == config["MARTINGALE_MAX_SOCKET_MESSAGE_BYTES"] == 65536
    config = load_config(
        {"MARTINGALE_MAX_BODY_BYTES": "1024", "MARTINGALE_MAX_SOCKET_MESSAGE_BYTES": "2048"}
    )
    assert (config["MAX_CONTENT_LENGTH"], config["MARTINGALE_MAX_SOCKET_MESSAGE_BYTES"]) == (
        1024,
        2048,
    )
    with pytest.raises(ConfigError):
        load_config({"MARTINGALE_MAX_BODY_BYTES": "0"})
