import json
import time

import sqlalchemy as sa

from hubs.backend.store import store_message
from hubs.backend.triage import stats_path
from hubs.cli import cli
from hubs.models import Message


def run(app, *args):
    return app.test_cli_runner().invoke(cli, list(args), catch_exceptions=False)


def test_backend_stats_prints_the_counters(app):
    path = stats_path(app.config)
    import os

    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        json.dump({"time": time.time() - 30, "pid": 42, "seen": 7, "queue_depth": 0}, handle)
    result = run(app, "backend-stats")
    assert result.exit_code == 0
    assert "backend pid 42, counters as of 30 s ago" in result.output
    assert "seen" in result.output and "7" in result.output


def test_backend_stats_without_a_backend(app):
    result = app.test_cli_runner().invoke(cli, ["backend-stats"])
    assert result.exit_code == 1
    assert "is fedmsg-hub running?" in result.output


def test_prune_messages(app, session):
    store_message(
        session,
        {"topic": "org.fedoraproject.prod.wiki.article.edit", "msg": {}, "msg_id": "old",
         "timestamp": 1_000_000},
        ["ralph"], [],
    )  # fmt: skip
    session.commit()
    result = run(app, "prune-messages", "--days", "30")
    assert "deleted 1 messages" in result.output
    assert session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0
