"""What `make run` shows: populate.py on a fresh embedded database, then the demo hubs.
The local widgets are full of corpus data; the Fedora services are unreachable, so the
external widgets say so, and no page fails."""

import subprocess
import sys

import pytest

from hubs.app import create_app
from hubs.cache import close_cache
from tests.html import widget_states, with_role
from tests.stack import SERVICE_URLS, free_port
from tests.test_populate import ROOT

LOCAL = ["feed", "fedmsgstats", "activity", "halp"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo site's config after populate.py ran, with every service unreachable."""
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
    result = subprocess.run(
        [sys.executable, str(ROOT / "populate.py")],
        env={"HUBS_CONFIG": str(path), "PATH": ""},
        capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "messages: 342/342 read" in result.stdout
    assert "messages: 8/8 read, 8 new" in result.stdout  # the demo calls for help
    yield {**config, "TESTING": True}
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


@pytest.mark.parametrize(
    ("path", "external"),
    [
        ("/t/infrastructure/", ["meetings", "pagure", "bugzilla"]),
        ("/t/design/", ["meetings", "pagure"]),
        ("/t/websites/", ["meetings", "github"]),
        ("/t/marketing/", ["meetings"]),
        ("/t/i18n/", ["meetings"]),
        ("/u/ralph/", ["badges", "updates2stable"]),
        ("/u/mizmo/", ["badges", "updates2stable"]),
    ],
)
def test_demo_hubs_show_local_data_and_unreachable_services(client, path, external):
    page = client.get(path)
    assert page.status_code == 200
    states = widget_states(page.text)
    for plugin in LOCAL:
        assert states[plugin] == "ready", (path, plugin)
        shown = panel(page.text, plugin)
        assert not with_role(shown, "empty"), (path, plugin, shown)
    assert with_role(panel(page.text, "feed"), "feed-entry")
    assert with_role(panel(page.text, "halp"), "help-call")
    for plugin in external:
        assert states[plugin] == "error", (path, plugin)
        assert "Could not reach 127.0.0.1" in panel(page.text, plugin)


def test_the_calls_for_help_of_each_team(client):
    infrastructure = panel(client.get("/t/infrastructure/").text, "halp")
    design = panel(client.get("/t/design/").text, "halp")
    assert len(with_role(infrastructure, "help-call")) == 3
    assert len(with_role(design, "help-call")) == 2
    # marketing and i18n both meet in #fedora-meeting-2, told apart by meeting title.
    for team, who in (("marketing", "jflory7"), ("i18n", "pingou")):
        calls = panel(client.get(f"/t/{team}/").text, "halp")
        assert len(with_role(calls, "help-call")) == 1 and f"<strong>{who}</strong>" in calls
