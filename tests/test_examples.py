"""The production config example loads, and says what production needs."""

import pathlib

from hubs.app import _origin
from hubs.config import load_config

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def test_production_config_example(monkeypatch):
    monkeypatch.setenv("HUBS_CONFIG", str(EXAMPLES / "production-config.py"))
    config = load_config({"SECRET_KEY": "the operator's own"})
    assert config["DATABASE_URL"].startswith("postgresql://")
    assert config["CACHE_BACKEND"] == "dogpile.cache.memcached"
    assert len(config["CACHE_ARGUMENTS"]["url"]) == 2
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["OIDC_ISSUER"] == "https://id.fedoraproject.org"
    assert config["SSE_URL"] == "/sse/stream" and _origin(config["SSE_URL"]) == ""


def test_nginx_snippet_turns_buffering_off_for_sse():
    text = (EXAMPLES / "nginx-hubs.conf").read_text()
    sse = text.split("location /sse/", 1)[1].split("}", 1)[0]
    assert "proxy_buffering off;" in sse and "gzip off;" in sse
