"""The README's production command, run for real: gunicorn with two workers, the
production example config, PostgreSQL and memcached."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import requests

from tests.conftest import MEMCACHED, recreate_postgres_database
from tests.stack import BIN, ROOT, SERVICE_URLS, free_port, wait_for

EXAMPLE = ROOT / "examples" / "production-config.py"


@pytest.fixture
def production_config(tmp_path):
    """The example, as an operator fills it in, on this machine's servers."""
    url = recreate_postgres_database("hubs_test_production")
    dead = f"http://127.0.0.1:{free_port()}/"
    config = tmp_path / "config.py"
    config.write_text(
        f"exec(open({str(EXAMPLE)!r}).read())\n"
        "SECRET_KEY = 'a long random string the operator made, 7f3e9c1d5b2a8e6f'\n"
        f"DATABASE_URL = {url!r}\n"
        f"CACHE_ARGUMENTS['url'] = [{MEMCACHED!r}]\n"
        f"VAR_DIR = {str(tmp_path)!r}\n" + "".join(f"{name} = {dead!r}\n" for name in SERVICE_URLS)
    )
    env = {"HUBS_CONFIG": str(config), "PATH": f"{BIN}:/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "populate.py", "--no-cache"],
        env=env, cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return env


def _get(url: str):
    try:
        return requests.get(url, timeout=10)
    except requests.RequestException:
        return None


def test_gunicorn_serves_hubs_with_the_production_example(production_config, tmp_path):
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("w+")
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "hubs.app:create_app()"],
        env=production_config, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        ready = wait_for(lambda: _get(f"{base}/healthz/ready"), 60, "gunicorn to answer")
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
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _read(handle) -> str:
    handle.flush()
    handle.seek(0)
    return handle.read()
