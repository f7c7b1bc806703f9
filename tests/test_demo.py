"""What `make run` shows: the Makefile's own run target (populate.py on a fresh embedded
database, then `fedora-hubs run`), in demo mode. The local widgets are full of corpus
data; Fedora's services are unreachable, and the external widgets show their recorded
answers, labelled as demo data; no page fails."""

import json
import os
import re
import stat
import subprocess
import sys

import pytest

from hubs.app import create_app
from hubs.cache import close_cache
from tests.html import widget_states, with_role
from tests.stack import SERVICE_URLS, free_port
from tests.test_populate import ROOT

LOCAL = ["feed", "fedmsgstats", "activity", "halp"]
# What `fedora-hubs run` sees: the settings every process it starts would load.
STACK_PROBE = """
import json, sys
from hubs.config import load_config
config = load_config()
json.dump({"argv": sys.argv[1:], "DEMO_MODE": config["DEMO_MODE"]}, open(sys.argv[1], "w"))
"""


def _script(path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """`make run` with a virtualenv whose python is this one and whose fedora-hubs
    records the settings the stack would start with (instead of serving on fixed ports),
    every service unreachable. Its config, as the stack's processes load it."""
    where = tmp_path_factory.mktemp("demo")
    dead = f"http://127.0.0.1:{free_port()}/"
    config = {
        "DATABASE_URL": f"sqlite:///{where / 'hubs.db'}",
        "CACHE_BACKEND": "dogpile.cache.dbm",
        "CACHE_ARGUMENTS": {"filename": str(where / "widget-cache.dbm")},
        "VAR_DIR": str(where),
        **dict.fromkeys(SERVICE_URLS, dead),
    }
    path = where / "config.py"
    path.write_text("".join(f"{name} = {value!r}\n" for name, value in config.items()))
    venv = where / "venv"
    (venv / "bin").mkdir(parents=True)
    _script(venv / "bin" / "python", f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    (where / "probe.py").write_text(STACK_PROBE)
    seen = where / "stack.json"
    _script(
        venv / "bin" / "fedora-hubs",
        f'#!/bin/sh\nexec {sys.executable} {where / "probe.py"} {seen} "$@"\n',
    )
    (venv / ".deps").touch()  # installed: make goes straight to running
    env = {"HUBS_CONFIG": str(path), "PATH": os.environ["PATH"]}
    result = subprocess.run(
        ["make", "--no-print-directory", "run", f"VENV={venv}"],
        env=env, capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "messages: 342/342 read" in result.stdout
    assert "messages: 8/8 read, 8 new" in result.stdout  # the demo calls for help
    # Every widget built, the external ones too: from their recordings.
    built = re.search(r"cache: built the data of (\d+) of (\d+) widgets", result.stdout)
    assert built and built[1] == built[2] and int(built[1]) > 100, result.stdout
    stack = json.loads(seen.read_text())
    assert stack["argv"][1:] == ["run"]
    yield {**config, "DEMO_MODE": stack["DEMO_MODE"], "TESTING": True}
    close_cache()


@pytest.fixture
def client(demo):
    app = create_app(demo)
    with app.test_client() as client:
        yield client
    close_cache()


def panel(page: str, plugin: str) -> str:
    """The HTML of the first panel of ``plugin`` on ``page``."""
    start = page.index(f'data-plugin="{plugin}"')
    return page[start : page.index("</section>", start)]


def test_make_run_turns_demo_mode_on(demo):
    assert demo["DEMO_MODE"] is True


@pytest.mark.parametrize(
    ("path", "external"),
    [
        ("/t/infrastructure/", ["meetings", "pagure", "bugzilla"]),
        ("/t/design/", ["meetings", "pagure"]),
        ("/t/websites/", ["meetings", "github"]),
        ("/t/marketing/", ["meetings"]),
        ("/t/i18n/", ["meetings"]),
        ("/u/ralph/", ["badges", "updates2stable"]),
        ("/u/mizmo/", ["badges"]),
    ],
)
def test_demo_hubs_show_local_data_and_labelled_recordings(client, path, external):
    page = client.get(path)
    assert page.status_code == 200
    assert not with_role(page.text, "widget-error")
    states = widget_states(page.text)
    assert set(states.values()) == {"ready"}, states
    for plugin in LOCAL:
        shown = panel(page.text, plugin)
        assert not with_role(shown, "empty"), (path, plugin, shown)
        assert not with_role(shown, "demo-data"), (path, plugin)
    assert with_role(panel(page.text, "feed"), "feed-entry")
    assert with_role(panel(page.text, "halp"), "help-call")
    for plugin in external:
        shown = panel(page.text, plugin)
        assert with_role(shown, "demo-data"), (path, plugin)
        assert not with_role(shown, "empty"), (path, plugin, shown)


def test_the_calls_for_help_of_each_team(client):
    infrastructure = panel(client.get("/t/infrastructure/").text, "halp")
    design = panel(client.get("/t/design/").text, "halp")
    assert len(with_role(infrastructure, "help-call")) == 3
    assert len(with_role(design, "help-call")) == 2
    # marketing and i18n both meet in #fedora-meeting-2, told apart by meeting title.
    for team, who in (("marketing", "jflory7"), ("i18n", "pingou")):
        calls = panel(client.get(f"/t/{team}/").text, "halp")
        assert len(with_role(calls, "help-call")) == 1 and f"<strong>{who}</strong>" in calls
