"""Every widget that calls a Fedora web service, against a service that is dead in each
way a real one dies: connection refused, no answer (timeout), a 500, and HTML where JSON
was expected. The widget shows its error state naming the service, the page is fine, and
a second view within the negative-cache period makes no new request."""

from __future__ import annotations

import http.server
import threading
import time

import pytest
import requests

from hubs.widgets import registry
from tests import factories
from tests.html import widget_states, with_role
from tests.stack import free_port

# plugin -> (the setting naming its service, a config that makes it call the service)
EXTERNAL = {
    "badges": ("BADGES_URL", {"username": "ralph"}),
    "bugzilla": ("BUGZILLA_URL", {"packages": "rpm"}),
    "github": ("GITHUB_URL", {"repo": "fedora-infra/fedora-hubs"}),
    "meetings": ("FEDOCAL_URL", {"calendar": "infrastructure"}),
    "pagure": ("PAGURE_URL", {"project": "fedora-infrastructure"}),
    "updates2stable": ("BODHI_URL", {"username": "ralph"}),
}
MODES = ["refused", "timeout", "500", "not-json"]
TIMEOUT = (0.5, 0.5)


def calls_a_service(widget_type) -> bool:
    """Whether a widget module uses a client of hubs.clients."""
    return any(
        getattr(value, "__module__", "").startswith("hubs.clients")
        for value in vars(widget_type.module).values()
    )


def test_the_table_lists_every_external_widget():
    assert {name for name, t in registry.items() if calls_a_service(t)} == set(EXTERNAL)
    # ...and each declares the services it calls (demo mode labels their panels).
    assert {name for name, t in registry.items() if t.external} == set(EXTERNAL)
    for name, (setting, _config) in EXTERNAL.items():
        assert [client.URL_SETTING for client in registry[name].clients] == [setting]


class DeadService(http.server.BaseHTTPRequestHandler):
    mode = "500"

    def do_GET(self):
        if self.mode == "timeout":
            time.sleep(3)  # longer than the client's read timeout
            return
        if self.mode == "500":
            self.send_response(500)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"Internal Server Error")
            return
        page = b"<html><body>Down for maintenance</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *args):
        """Quiet: the test reads what the client saw, not the server's log."""


@pytest.fixture(params=MODES)
def dead(request):
    """(mode, base URL) of a dead service."""
    if request.param == "refused":
        yield request.param, f"http://127.0.0.1:{free_port()}/"
        return
    handler = type("Handler", (DeadService,), {"mode": request.param})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield request.param, f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(params=sorted(EXTERNAL))
def plugin(request):
    return request.param


@pytest.fixture
def app_config(app_config, dead, plugin):
    _mode, url = dead
    return {**app_config, EXTERNAL[plugin][0]: url, "SERVICE_TIMEOUT": TIMEOUT}


@pytest.fixture
def sent(monkeypatch):
    """Every request the code under test sends, by URL."""
    urls = []
    send = requests.adapters.HTTPAdapter.send

    def counting(adapter, request, *args, **kwargs):
        urls.append(request.url)
        assert kwargs.get("timeout") is not None, "a request without a timeout"
        return send(adapter, request, *args, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", counting)
    return urls


def test_a_dead_service_is_an_error_state_not_a_failed_page(client, session, dead, plugin, sent):
    mode, url = dead
    hub = factories.hub(session, "infrastructure")
    widget = factories.widget(session, hub, plugin, **EXTERNAL[plugin][1])
    session.commit()
    panel = client.get(widget.url_path)
    assert panel.status_code == 200
    assert with_role(panel.text, "widget-error"), f"{plugin} against a {mode} service"
    assert "Could not reach 127.0.0.1" in panel.text
    assert sent and all(u.startswith(url) for u in sent)
    made = len(sent)

    page = client.get("/t/infrastructure/")
    again = client.get(widget.url_path)
    assert page.status_code == 200 and widget_states(page.text)[plugin] == "error"
    assert with_role(again.text, "widget-error")
    assert len(sent) == made  # the failure was cached: no new request


REASONS = {
    "refused": "cannot connect",
    "timeout": "timed out",
    "500": "HTTP 500",
    "not-json": "unexpected answer",
}


@pytest.mark.parametrize("plugin", ["badges"], indirect=True)
def test_an_outage_is_one_log_line_with_its_details_at_debug(
    app_context, session, dead, plugin, caplog
):
    mode, url = dead
    caplog.set_level("DEBUG", logger="hubs.cache")
    widget = factories.widget(session, factories.hub(session, "infrastructure"), "badges",
                              username="ralph")  # fmt: skip
    assert registry["badges"].build(session, widget)["ok"] is False
    warning, detail = [r for r in caplog.records if r.name == "hubs.cache"]
    assert warning.levelname == "WARNING" and warning.exc_info is None
    assert warning.getMessage() == (
        f"Widget {widget!r}: Could not reach 127.0.0.1:{url.rsplit(':', 1)[1].strip('/')} "
        f"right now. ({REASONS[mode]})"
    )
    assert detail.levelname == "DEBUG" and f"{url}user/ralph/json" in detail.getMessage()
