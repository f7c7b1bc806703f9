"""The README's production command, run for real: gunicorn with two workers, the
production example config, PostgreSQL and memcached."""

from __future__ import annotations

import concurrent.futures
import contextlib
import http.server
import json
import re
import subprocess
import sys
import threading
import time

import pytest
import requests

from tests.conftest import MEMCACHED, recreate_postgres_database
from tests.stack import BIN, ROOT, SERVICE_URLS, free_port, wait_for

EXAMPLE = ROOT / "examples" / "production-config.py"


class SlowBadges(http.server.BaseHTTPRequestHandler):
    """Fedora Badges answering ralph's badges (recorded) after a while, counting calls."""

    calls: list[str] = []

    def do_GET(self):
        SlowBadges.calls.append(self.path)
        time.sleep(0.5)  # a slow service: the time for every other request to pile up
        body = (ROOT / "tests" / "data" / "badges" / "user-ralph.json").read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        """Quiet: the test counts the calls."""


@pytest.fixture
def badges():
    SlowBadges.calls = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowBadges)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/", SlowBadges.calls
    server.shutdown()
    server.server_close()


@pytest.fixture
def production_config(tmp_path, badges):
    """The example, as an operator fills it in, on this machine's servers."""
    url = recreate_postgres_database("hubs_test_production")
    dead = f"http://127.0.0.1:{free_port()}/"
    settings = {
        "SECRET_KEY": "a long random string the operator made, 7f3e9c1d5b2a8e6f",
        "DATABASE_URL": url,
        "VAR_DIR": str(tmp_path),
        **dict.fromkeys(SERVICE_URLS, dead),
        "BADGES_URL": badges[0],
    }
    config = tmp_path / "config.py"
    config.write_text(
        f"exec(open({str(EXAMPLE)!r}).read())\n"
        f"CACHE_ARGUMENTS['url'] = [{MEMCACHED!r}]\n"
        + "".join(f"{name} = {value!r}\n" for name, value in settings.items())
    )
    env = {"HUBS_CONFIG": str(config), "PATH": f"{BIN}:/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "populate.py", "--no-cache"],
        env=env, cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    # Earlier runs may have left widgets of the same ids in this memcached.
    clean = subprocess.run(
        [str(BIN / "fedora-hubs"), "cache", "clean"],
        env=env, cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert clean.returncode == 0, clean.stdout + clean.stderr
    return env


@contextlib.contextmanager
def gunicorn(env: dict, log_path):
    port = free_port()
    log = open(log_path, "w+")  # noqa: SIM115 (closed below, read while it runs)
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "hubs.app:create_app()"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _get(f"{base}/healthz/ready"), 60, "gunicorn to answer")
        yield base, log
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _get(url: str):
    try:
        return requests.get(url, timeout=10)
    except requests.RequestException:
        return None


def test_gunicorn_serves_hubs_with_the_production_example(production_config, tmp_path):
    with gunicorn(production_config, tmp_path / "gunicorn.log") as (base, log):
        ready = _get(f"{base}/healthz/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok", "cache": "ok"}

        page = _get(f"{base}/t/infrastructure/")
        assert page.status_code == 200
        ids = re.findall(r'data-widget-id="(\d+)"', page.text)
        assert len(set(ids)) >= 10
        widget_id = re.search(r'data-widget-id="(\d+)"\s+data-plugin="sticky"', page.text)[1]
        panel = _get(f"{base}/t/infrastructure/w/{widget_id}/")
        assert panel.status_code == 200 and f'data-widget-id="{widget_id}"' in panel.text
        document = _get(f"{base}/t/infrastructure/w/{widget_id}/json").json()
        assert document["id"] == int(widget_id) and "data" in document
        # Both workers booted (and neither died on the config).
        workers = set(re.findall(r"Booting worker with pid: (\d+)", _read(log)))
        assert len(workers) == 2, _read(log)


def test_a_cold_widget_is_fetched_once_however_many_ask(production_config, tmp_path, badges):
    """30 visitors at once, over two gunicorn workers, open ralph's cold badges widget:
    Fedora Badges is asked once; everyone gets the same answer."""
    _url, calls = badges
    with gunicorn(production_config, tmp_path / "gunicorn.log") as (base, _log):
        page = _get(f"{base}/u/ralph/").text
        widget_id = re.search(r'data-widget-id="(\d+)"\s+data-plugin="badges"', page)[1]
        url = f"{base}/u/ralph/w/{widget_id}/json"
        with concurrent.futures.ThreadPoolExecutor(30) as pool:
            answers = list(pool.map(lambda _n: _get(url), range(30)))
    assert [a.status_code for a in answers] == [200] * 30
    assert len({json.dumps(a.json()["data"], sort_keys=True) for a in answers}) == 1
    assert answers[0].json()["data"]["badges"], answers[0].json()
    assert calls == ["/user/ralph/json"]


def _read(handle) -> str:
    handle.flush()
    handle.seek(0)
    return handle.read()
