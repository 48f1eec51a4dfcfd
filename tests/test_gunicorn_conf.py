"""gunicorn.conf.py's access logger writes gunicorn's own lines, from fewer atoms."""

from __future__ import annotations

import datetime
import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger, SafeAtoms

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


@pytest.fixture
def conf(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "1")
    monkeypatch.setenv("MARTINGALE_ENGINE", "on")
    spec = importlib.util.spec_from_file_location("martingale_gunicorn_conf", CONF)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "fmt",
    [
        None,  # gunicorn's default
        '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(m)s %(U)s %(q)s %(H)s %(B)s %(T)s %(D)s %(M)s %(L)s',
        '%(h)s "%({user-agent}i)s" %({content-type}o)s %({remote_addr}e)s',  # gunicorn's own path
    ],
)
def test_the_access_line_is_gunicorns_own(conf, fmt, monkeypatch):
    monkeypatch.setattr(Logger, "now", lambda self: "[29/Nov/2026:20:49:36 +0000]")  # one second
    cfg = Config()
    if fmt is not None:
        cfg.set("access_log_format", fmt)
    environ = {
        "REMOTE_ADDR": "192.0.2.1", "REQUEST_METHOD": "POST", "RAW_URI": "/api/v1/trades?x=1",
        "SERVER_PROTOCOL": "HTTP/1.1", "PATH_INFO": "/api/v1/trades", "QUERY_STRING": "x=1",
        "HTTP_USER_AGENT": 'bot "7"', "HTTP_AUTHORIZATION": "Basic YWxpY2U6cHc=",
        "HTTP_REFERER": "https://example.test/", "wsgi.input": object(),
    }  # fmt: skip
    reply = SimpleNamespace(status="201 CREATED", sent=577,
                            headers=[("Content-Type", "application/json")])  # fmt: skip
    request = SimpleNamespace(headers=[("USER-AGENT", 'bot "7"')])
    took = datetime.timedelta(microseconds=1234)
    ours = conf.AccessLogger(cfg)
    theirs = Logger.atoms(ours, reply, request, environ, took)
    line = cfg.access_log_format % SafeAtoms(ours.atoms(reply, request, environ, took))
    assert line == cfg.access_log_format % SafeAtoms(theirs)
    assert "192.0.2.1" in line
