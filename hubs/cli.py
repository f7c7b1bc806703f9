"""`fedora-hubs`: chores for admins (Flask's own commands — run, shell, routes — too)."""

from __future__ import annotations

import json
import os
import sys
import time

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from hubs.app import create_app
from hubs.backend.store import prune
from hubs.backend.triage import stats_path
from hubs.database import db


@click.group(cls=FlaskGroup, create_app=lambda: create_app())
def cli() -> None:
    """Fedora Hubs administration."""


@cli.command("backend-stats")
@with_appcontext
def backend_stats() -> None:
    """Print the backend daemon's counters (as of its last summary)."""
    path = stats_path(current_app.config)
    if not os.path.exists(path):
        click.echo(f"No backend statistics at {path}: is fedmsg-hub running?", err=True)
        sys.exit(1)
    with open(path) as handle:
        stats = json.load(handle)
    age = time.time() - stats.pop("time")
    click.echo(f"backend pid {stats.pop('pid')}, counters as of {age:.0f} s ago:")
    width = max(len(key) for key in stats)
    for key, value in stats.items():
        click.echo(f"  {key.replace('_', ' '):{width}}  {value}")


@cli.command("prune-messages")
@click.option("--days", type=int, help="keep this many days (default: MESSAGE_RETENTION_DAYS)")
@click.option("--cap", type=int, help="newest messages kept per user and package")
@with_appcontext
def prune_messages(days: int | None, cap: int | None) -> None:
    """Delete old messages from the message store."""
    config = current_app.config
    days = config["MESSAGE_RETENTION_DAYS"] if days is None else days
    cap = config["MESSAGE_RETENTION_CAP"] if cap is None else cap
    click.echo(f"pruning messages older than {days} days or beyond the {cap} newest per user…")
    deleted = prune(db.session, days=days, cap=cap)
    click.echo(f"deleted {deleted} messages")
