"""`fedora-hubs`: chores for admins (Flask's own commands — run, shell, routes — too)."""

from __future__ import annotations

import functools
import json
import sys
import time

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from hubs import cache
from hubs.app import create_app
from hubs.backend.store import prune
from hubs.backend.triage import all_stats_paths
from hubs.database import db, writing
from hubs.models import Hub, HubType, User, Widget
from hubs.widgets import get_widget_type


def writes(command):
    """The command changes the database: its transactions take the write lock as they
    begin (SQLite), so that it never fails on the backend's writes, nor they on it."""

    @functools.wraps(command)
    def in_a_writer(*args, **kwargs):
        with writing():
            return command(*args, **kwargs)

    return in_a_writer


@click.group(cls=FlaskGroup, create_app=lambda: create_app())
def cli() -> None:
    """Fedora Hubs administration."""


@cli.command("backend-stats")
@with_appcontext
def backend_stats() -> None:
    """Print each backend daemon's counters (as of its last summary), and their totals
    when several backends share a queue."""
    paths = all_stats_paths(current_app.config)
    if not paths:
        click.echo(
            f"No backend statistics in {current_app.config['VAR_DIR']}: is fedmsg-hub "
            "(or a fedora-messaging backend) running?",
            err=True,
        )
        sys.exit(1)
    totals: dict[str, int] = {}
    for path in paths:
        with open(path) as handle:
            stats = json.load(handle)
        age = time.time() - stats.pop("time")
        instance = stats.pop("instance", None)
        name = (
            f"backend {instance} (pid {stats.pop('pid')})"
            if instance
            else (f"backend pid {stats.pop('pid')}")
        )
        click.echo(f"{name}, counters as of {age:.0f} s ago:")
        width = max(len(key) for key in stats)
        for key, value in stats.items():
            click.echo(f"  {key.replace('_', ' '):{width}}  {value}")
            if isinstance(value, int):
                totals[key] = totals.get(key, 0) + value
    if len(paths) > 1:
        click.echo(f"all {len(paths)} backends:")
        width = max(len(key) for key in totals)
        for key, value in totals.items():
            click.echo(f"  {key.replace('_', ' '):{width}}  {value}")


@cli.command("prune-messages")
@click.option("--days", type=int, help="keep this many days (default: MESSAGE_RETENTION_DAYS)")
@click.option("--cap", type=int, help="newest messages kept per user and package")
@with_appcontext
@writes
def prune_messages(days: int | None, cap: int | None) -> None:
    """Delete old messages from the message store."""
    config = current_app.config
    days = config["MESSAGE_RETENTION_DAYS"] if days is None else days
    cap = config["MESSAGE_RETENTION_CAP"] if cap is None else cap
    click.echo(f"pruning messages older than {days} days or beyond the {cap} newest per user…")
    deleted = prune(db.session, days=days, cap=cap)
    click.echo(f"deleted {deleted} messages")


@cli.command("backfill")
@click.option("--user", "users", multiple=True, help="this person's history (repeatable)")
@click.option("--team", "teams", multiple=True, help="the history of a team's owners and members")
@click.option("--days", type=int, help="how far back (default: BACKFILL_DAYS)")
@with_appcontext
def backfill_command(users: tuple[str, ...], teams: tuple[str, ...], days: int | None) -> None:
    """Fill the message store with people's history from datagrepper (DATAGREPPER_URL);
    everyone with a hub when no --user or --team is given. Only what is missing is
    fetched, so a second run (or one beside the backend) costs little."""
    from hubs.backfill import Backfiller, request_history, window_days
    from hubs.people import hub_people

    config = current_app.config
    if not config.get("DATAGREPPER_URL"):
        raise click.ClickException("DATAGREPPER_URL is not set: there is nowhere to fetch from")
    if days is not None and days < 1:
        raise click.BadParameter("must be at least 1", param_hint="--days")
    session = db.session
    names = set()
    for username in users:
        if session.scalar(sa.select(User.id).where(User.username == username)) is None:
            raise click.BadParameter(f"Hubs has no account {username!r}", param_hint="--user")
        names.add(username)
    for team in teams:
        hub = session.scalar(sa.select(Hub).where(Hub.type == HubType.team, Hub.name == team))
        if hub is None:
            raise click.BadParameter(f"no team hub named {team!r}", param_hint="--team")
        names |= hub_people(session, hub)
    if not users and not teams:
        names = set(session.scalars(sa.select(User.username)))
    days = window_days(config, days)
    with writing():
        request_history(session, names, days)
        session.commit()
    backfiller = Backfiller(current_app._get_current_object())
    click.echo(f"backfilling {len(names)} people, {days} days, from {config['DATAGREPPER_URL']}")
    totals = {"stored": 0, "duplicates": 0, "failed": 0, "skipped": 0}
    for username in sorted(names):
        if backfiller.claim(username) is None:
            holder = backfiller.holder(username)
            click.echo(f"{username}: being fetched by {holder}; skipped" if holder
                       else f"{username}: nothing to fetch")  # fmt: skip
            totals["skipped"] += 1
            continue
        shown = ProgressLine(username)
        outcome = backfiller.run(username, progress=shown.update)
        shown.end(outcome)
        totals["stored"] += outcome.stored
        totals["duplicates"] += outcome.duplicates
        totals["failed"] += outcome.error is not None
    click.echo(
        f"done: {totals['stored']} messages stored, {totals['duplicates']} there already, "
        f"{totals['failed']} people to try again, {totals['skipped']} skipped"
    )
    if totals["failed"]:
        sys.exit(1)


class ProgressLine:
    """One person's backfill as it goes: a bar of pages, messages fetched and stored,
    and the rate; redrawn in place on a terminal, a line per page elsewhere (logs)."""

    WIDTH = 20

    def __init__(self, username: str) -> None:
        self.username = username
        self.started = time.monotonic()
        self.tty = sys.stdout.isatty()
        self.drawn = False

    def update(self, outcome, page) -> None:
        done = round(self.WIDTH * page.page / max(page.pages, 1))
        rate = outcome.stored / max(time.monotonic() - self.started, 1e-6)
        line = (
            f"{self.username} [{'#' * done}{'-' * (self.WIDTH - done)}] "
            f"page {page.page}/{max(page.pages, 1)}, {outcome.fetched}/{page.total} messages, "
            f"{outcome.stored} new, {rate:.0f} messages/s"
        )
        click.echo(("\r" + line) if self.tty else line, nl=not self.tty)
        self.drawn = True

    def end(self, outcome) -> None:
        if self.drawn and self.tty:
            click.echo()
        if outcome.error:
            click.echo(f"{self.username}: {outcome.error}; left to try again", err=True)
        else:
            click.echo(
                f"{self.username}: {outcome.stored} new, {outcome.duplicates} there already"
                + (f", {outcome.invalid} invalid" if outcome.invalid else "")
            )


def columns(rows: list[tuple[str, ...]]) -> str:
    """Rows as lines of left-aligned columns two spaces apart (the last one unpadded)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join([*(c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)), row[-1]])
        for row in rows
    )


# -- the widget cache --------------------------------------------------------------------


@cli.group("cache")
def cache_group() -> None:
    """The widget cache: what it holds, emptying it."""


def _widgets_with_keys():
    widgets = db.session.scalars(
        sa.select(Widget).join(Widget.hub).order_by(Hub.type, Hub.name, Widget.id)
    ).all()
    typed = [(w, get_widget_type(w.plugin)) for w in widgets]
    return [(w, t, t.cache_key(w)) for w, t in typed if t is not None]


def cache_state() -> list[tuple[Widget, bool]]:
    """Each widget, and whether fresh data for its current config is cached."""
    rows = _widgets_with_keys()
    found = cache.get_cached([key for _w, _t, key in rows])
    return [
        (widget, envelope is not None)
        for (widget, _t, _k), envelope in zip(rows, found, strict=True)
    ]


@cache_group.command("list")
@with_appcontext
def cache_list() -> None:
    """Every widget and whether its data is cached."""
    rows = [
        (f"{widget.hub.url_path}w/{widget.id}/", widget.plugin, "cached" if cached else "-")
        for widget, cached in cache_state()
    ]
    click.echo(columns([("widget", "plugin", "data"), *rows]))


@cache_group.command("coverage")
@with_appcontext
def cache_coverage() -> None:
    """How many widgets have their data cached, as a percentage."""
    state = cache_state()
    cached = sum(1 for _widget, is_cached in state if is_cached)
    percent = 100.0 * cached / len(state) if state else 100.0
    click.echo(f"{cached} of {len(state)} widgets cached: {percent:.1f}%")


@cache_group.command("clean")
@with_appcontext
def cache_clean() -> None:
    """Drop every widget's cached data (pages rebuild it as they are viewed)."""
    rows = _widgets_with_keys()
    with click.progressbar(rows, label="dropping cached widget data") as bar:
        for _widget, _type, key in bar:
            cache.invalidate(key)
    click.echo(f"dropped the cached data of {len(rows)} widgets")


# -- layouts: export, import --------------------------------------------------------------


def hub_named(spec: str, param_hint: str = "HUB") -> Hub:
    """The hub ``spec`` names as its page path does: t/design, u/nirik (slashes around
    it allowed); a bare name is a team's."""
    kind, _, name = spec.strip("/").rpartition("/")
    types = {"t": HubType.team, "u": HubType.user, "": HubType.team}
    if kind not in types or not name:
        raise click.BadParameter(
            f"{spec!r} names no hub: write t/TEAM or u/USER", param_hint=param_hint
        )
    hub = db.session.scalar(sa.select(Hub).where(Hub.type == types[kind], Hub.name == name))
    if hub is None:
        raise click.BadParameter(
            f"there is no {types[kind].value} hub named {name!r}", param_hint=param_hint
        )
    return hub


@cli.command("export")
@click.argument("hub")
@with_appcontext
def export_command(hub: str) -> None:
    """Print the layout document of HUB (t/TEAM or u/USER): its widgets and their
    configs, as GET /<u|t>/<name>/export gives it."""
    from hubs import changes, revisions

    state = changes.hub_state(db.session, hub_named(hub))
    click.echo(json.dumps(revisions.layout_document(state), indent=2, sort_keys=True))


@cli.command("import")
@click.argument("hub")
@click.argument("document", type=click.File("r"))
@with_appcontext
@writes
def import_command(hub: str, document) -> None:
    """Give HUB (t/TEAM or u/USER) the layout of DOCUMENT (a file made by export, or -
    for standard input), as one revision; every problem listed, and nothing changed,
    when it is refused."""
    from hubs import changes, revisions
    from hubs.widgets.base import InvalidConfig

    target = hub_named(hub)
    try:
        parsed = current_app.json.loads(document.read())  # as the web app reads JSON
    except ValueError as error:
        raise click.ClickException(f"{document.name} is not JSON: {error}") from None
    try:
        layout = revisions.read_layout(
            parsed, target.type.value, current_app.config["MAX_WIDGETS_PER_HUB"]
        )
        done = changes.import_layout(db.session, target, layout, agent="fedora-hubs")
    except InvalidConfig as error:
        db.session.rollback()
        for where, why in error.errors.items():
            click.echo(f"{where}: {why}", err=True)
        problems = len(error.errors)
        raise click.ClickException(
            f"{document.name} was refused ({problems} problems); {target.url_path} is unchanged"
        ) from None
    click.echo(
        f"imported into {target.url_path}" if done else f"{target.url_path} has this layout already"
    )


# -- teams -------------------------------------------------------------------------------


@cli.command("create-team")
@click.argument("name")
@click.option("--owner", required=True, help="account name of its first owner")
@click.option("--summary", default="", help="one line about the team")
@click.option(
    "--create-owner", is_flag=True, help="create the owner's account if Hubs has none yet"
)
@click.option("--like", help="start with the layout of this hub (t/TEAM or u/USER)")
@with_appcontext
@writes
def create_team_command(
    name: str, owner: str, summary: str, create_owner: bool, like: str | None
) -> None:
    """Create a team hub with the default widgets, or with the layout of another hub."""
    from hubs import changes, teams
    from hubs.widgets import validators

    for label, value, check in (
        ("team name", name, validators.team_name),
        ("--owner", owner, validators.username),
        ("--summary", summary, validators.text(max_length=256)),
    ):
        try:
            check(value)
        except ValueError as error:
            raise click.BadParameter(f"{value!r} {error}", param_hint=label) from None
    session = db.session
    template = hub_named(like, "--like") if like else None
    if session.scalar(sa.select(Hub).where(Hub.type == HubType.team, Hub.name == name)):
        raise click.ClickException(f"a team hub named {name!r} exists already")
    user = session.scalar(sa.select(User).where(User.username == owner))
    if user is None:
        if not create_owner:
            raise click.ClickException(
                f"Hubs has no account {owner!r} (it is made at their first login); "
                "check the name, or pass --create-owner to make it now"
            )
        user = changes.sign_up(session, owner, owner, None)
    hub = teams.create_team(session, name, user, "fedora-hubs", summary=summary, like=template)
    click.echo(f"created {hub.url_path} owned by {owner}" + (f", like {like}" if like else ""))


@cli.command("sync-teams")
@click.option("--group", "groups", multiple=True, help="only this group (repeatable)")
@with_appcontext
@writes
def sync_teams_command(groups: tuple[str, ...]) -> None:
    """Team hubs and their memberships from FASJSON (FASJSON_URL)."""
    from hubs.clients.fasjson import FasjsonClient, FasjsonError
    from hubs.teams import sync_teams

    config = current_app.config
    client = FasjsonClient(config["FASJSON_URL"], auth=config["FASJSON_AUTH"])
    try:
        report = sync_teams(db.session, client, groups or config["SYNC_TEAMS"], say=click.echo)
    except FasjsonError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"done: {report}")


# -- everything at once ------------------------------------------------------------------


@cli.command("run", context_settings={"ignore_unknown_options": True})
def run_everything() -> None:
    """Start every process of the Procfile (web, relay, backend, sse, oidc), like make run:
    one that dies is restarted, the others run on; Ctrl-C stops them all."""
    from pathlib import Path

    from hubs import devstack

    root = Path(__file__).resolve().parent.parent
    procfile = root / "Procfile"
    if not procfile.exists():
        raise click.ClickException(f"no Procfile at {procfile}: run this from a clone of Hubs")
    sys.exit(devstack.main(procfile, root))
