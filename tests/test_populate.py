import pathlib
import subprocess
import sys

import pytest
import sqlalchemy as sa

from hubs.database import create_engine
from hubs.demo import FEDMSG_CORPUS
from hubs.models import Base, Hub, HubType, Membership, Message, Role, User, Widget
from hubs.seed import DEMO_TEAMS, load_messages, populate, reset
from tests.conftest import recreate_postgres_database

ROOT = pathlib.Path(__file__).resolve().parents[1]
TEAMS = {"infrastructure", "design", "marketing", "i18n", "websites"}


def row_counts(session) -> dict[str, int]:
    return {
        name: session.scalar(sa.select(sa.func.count()).select_from(table))
        for name, table in Base.metadata.tables.items()
    }


def test_populate_twice_gives_the_same_rows(session):
    first = populate(session, say=lambda line: None)
    counts = row_counts(session)
    second = populate(session, say=lambda line: None)
    assert row_counts(session) == counts
    assert second == {"users": 0, "hubs": 0, "memberships": 0}
    assert first["users"] == counts["users"] > 0
    teams = set(session.scalars(sa.select(Hub.name).where(Hub.type == HubType.team)))
    assert teams >= TEAMS
    users = session.scalar(
        sa.select(sa.func.count()).select_from(Hub).where(Hub.type == HubType.user)
    )
    assert users == counts["users"]  # a hub for every demo user


def test_populate_again_keeps_what_people_changed(session):
    say = [].append
    populate(session, say=say)
    assert load_messages(session, str(FEDMSG_CORPUS), say=say) > 0
    infrastructure = session.scalars(sa.select(Hub).where(Hub.name == "infrastructure")).one()
    ralph = session.scalars(sa.select(User).where(User.username == "ralph")).one()
    # An owner removes a member and a widget; retention drops some old messages.
    session.delete(session.get(Membership, (infrastructure.id, ralph.id, Role.member)))
    session.delete(next(w for w in infrastructure.widgets if w.plugin == "sticky"))
    for message in session.scalars(sa.select(Message).order_by(Message.timestamp).limit(50)):
        session.delete(message)
    session.commit()
    counts = row_counts(session)

    lines = []
    assert populate(session, say=lines.append) == {"users": 0, "hubs": 0, "memberships": 0}
    assert load_messages(session, str(FEDMSG_CORPUS), say=lines.append) == 0
    assert row_counts(session) == counts
    assert "team hub infrastructure: already there, left as it is" in lines
    left = counts["messages"]
    assert lines[-1] == f"messages: messages.jsonl was loaded before ({left} still stored)"


def test_every_demo_hub_has_owners_and_default_widgets(session):
    populate(session, say=lambda line: None)
    for hub in session.scalars(sa.select(Hub)):
        assert hub.users_with(Role.owner), hub
        assert len(hub.widgets) >= 4
    rules = session.scalars(
        sa.select(Widget)
        .join(Widget.hub)
        .where(Hub.name == "infrastructure", Widget.plugin == "rules")
    ).one()
    assert rules.config["links"] == DEMO_TEAMS[0].links


def test_reset_empties_every_table(session):
    populate(session, say=lambda line: None)
    reset(session)
    assert set(row_counts(session).values()) == {0}


def run_populate(config: pathlib.Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "populate.py"), *args],
        env={"HUBS_CONFIG": str(config), "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_populate_script_on_a_fresh_database(tmp_path, backend):
    if backend == "postgresql":
        url = recreate_postgres_database("hubs_test_populate")
    else:
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
    config = tmp_path / "config.py"
    config.write_text(
        f"DATABASE_URL = {url!r}\n"
        f"CACHE_ARGUMENTS = {{'filename': {str(tmp_path / 'cache.dbm')!r}}}\n"
    )
    first = run_populate(config)
    assert "schema: at the latest migration" in first
    assert "team hub infrastructure: created" in first
    assert "cache: built the data of" in first

    second = run_populate(config)
    assert "added: 0 users, 0 hubs, 0 memberships" in second
    rows = [line for line in first.splitlines() if line.startswith("rows:")]
    assert rows == [line for line in second.splitlines() if line.startswith("rows:")]

    third = run_populate(config, "--reset", "--no-cache")
    assert "reset: every table emptied" in third
    assert rows == [line for line in third.splitlines() if line.startswith("rows:")]
    assert "cache:" not in third

    engine = create_engine(url)
    with engine.connect() as connection:
        names = set(connection.scalars(sa.text("SELECT name FROM hubs WHERE type = 'team'")))
    engine.dispose()
    assert names >= TEAMS
