"""Demo data: users, team hubs with members and widgets, a hub for every user, and real
bus messages in the message store.

It seeds what is missing and never undoes what people did since: a hub that exists
keeps its widgets and memberships as its owners left them, and the demo messages are
loaded once (pruning some later does not bring them back). ``--reset`` empties the
tables first, for a clean slate.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hubs.config import load_config
from hubs.database import upgrade, writing
from hubs.default_widgets import default_widgets
from hubs.demo import FEDMSG_CORPUS, HELP_CALLS
from hubs.models import Base, Column, Hub, HubType, Membership, Role, User, Widget, utcnow

DEMO_USERS = [
    ("ralph", "Ralph Bean"),
    ("pingou", "Pierre-Yves Chibon"),
    ("lmacken", "Luke Macken"),
    ("toshio", "Toshio Kuratomi"),
    ("mizmo", "Máirín Duffy"),
    ("ryanlerch", "Ryan Lerch"),
    ("nirik", "Kevin Fenzi"),
    ("puiterwijk", "Patrick Uiterwijk"),
    ("jflory7", "Justin W. Flory"),
    ("bex", "Brian Exelbierd"),
    ("abompard", "Aurélien Bompard"),
    ("cverna", "Clément Verna"),
]


@dataclass
class DemoTeam:
    name: str
    summary: str
    description: str
    owners: list[str]
    members: list[str] = field(default_factory=list)
    subscribers: list[str] = field(default_factory=list)
    stargazers: list[str] = field(default_factory=list)
    rules: str = ""
    links: list[dict[str, str]] = field(default_factory=list)
    # Settings of the default widgets, by plugin (the rules widget takes rules and links).
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Widgets beside the default ones: (plugin, column, config).
    extra: list[tuple[str, Column, dict[str, Any]]] = field(default_factory=list)


DEMO_TEAMS = [
    DemoTeam(
        "infrastructure",
        "Fedora Infrastructure",
        "We run the servers, services and applications that build and ship Fedora.\n\n"
        "Meetings every Thursday in `#fedora-meeting-1`.",
        owners=["nirik", "puiterwijk"],
        members=["ralph", "pingou", "lmacken", "abompard", "cverna"],
        subscribers=["toshio", "ryanlerch"],
        stargazers=["mizmo", "bex"],
        rules="1. Ask before you change production.\n2. Every outage gets a ticket.",
        links=[
            {"title": "Infrastructure docs", "url": "https://docs.fedoraproject.org/en-US/infra/"},
            {"title": "Tickets", "url": "https://pagure.io/fedora-infrastructure/issues"},
        ],
        settings={
            "halp": {"channels": ["#fedora-meeting-1", "#fedora-admin"]},
            "contact": {
                "mailing_list": "infrastructure@lists.fedoraproject.org",
                "chat": ["#fedora-admin", "#admin:fedoraproject.org"],
                "website": "https://docs.fedoraproject.org/en-US/infra/",
            },
        },
        extra=[
            ("pagure", Column.left, {"project": "fedora-infrastructure"}),
            ("bugzilla", Column.right, {"packages": "python-fedora, fedmsg, datanommer"}),
        ],
    ),
    DemoTeam(
        "design",
        "Fedora Design Team",
        "Artwork, user experience and branding for Fedora.",
        owners=["mizmo"],
        members=["ryanlerch"],
        subscribers=["ralph", "jflory7"],
        rules="Share early, share often: post your drafts to the design ticket.",
        links=[{"title": "Design tickets", "url": "https://pagure.io/design/issues"}],
        settings={
            "halp": {"channels": ["#fedora-design"]},
            "contact": {
                "mailing_list": "design-team@lists.fedoraproject.org",
                "chat": ["#fedora-design", "#design:fedoraproject.org"],
            },
        },
        extra=[("pagure", Column.left, {"project": "design"})],
    ),
    DemoTeam(
        "marketing",
        "Fedora Marketing",
        "Telling the world about Fedora: release announcements, talking points, social media.",
        owners=["jflory7"],
        members=["bex"],
        subscribers=["mizmo"],
        stargazers=["ralph"],
        settings={"halp": {"channels": ["#fedora-meeting-2"], "meeting": "Marketing"}},
    ),
    DemoTeam(
        "i18n",
        "Fedora Internationalization",
        "Making Fedora work in every language and script.",
        owners=["toshio"],
        members=["pingou"],
        settings={"halp": {"channels": ["#fedora-meeting-2", "#fedora-i18n"], "meeting": "i18n"}},
    ),
    DemoTeam(
        "websites",
        "Fedora Websites",
        "The getfedora.org, spins and labs websites.",
        owners=["ryanlerch"],
        members=["abompard", "cverna"],
        subscribers=["bex"],
        settings={"halp": {"channels": ["#fedora-websites"]}},
        extra=[("github", Column.left, {"repo": "fedora-infra/fedora-hubs"})],
    ),
]


def _get_or_create(session: Session, model, defaults: dict, **keys):
    row = session.scalars(sa.select(model).filter_by(**keys)).one_or_none()
    if row is not None:
        return row, False
    row = model(**keys, **defaults)
    session.add(row)
    return row, True


def _ensure_role(session: Session, hub: Hub, user: User, role: Role) -> bool:
    _row, created = _get_or_create(session, Membership, {}, hub=hub, user=user, role=role)
    return created


def _ensure_hub(session: Session, name: str, hub_type: HubType, **fields) -> tuple[Hub, bool]:
    hub, created = _get_or_create(session, Hub, fields, name=name, type=hub_type)
    if created:
        session.add_all(default_widgets(hub))
    return hub, created


def _configure(hub: Hub, team: DemoTeam) -> None:
    """Give a new demo team hub its settings and its extra widgets."""
    settings = {**team.settings, "rules": {"text": team.rules, "links": team.links}}
    for widget in hub.widgets:
        if widget.plugin in settings:
            widget.config = {**(widget.config or {}), **settings[widget.plugin]}
    for plugin, column, config in team.extra:
        position = sum(1 for widget in hub.widgets if widget.column is column)
        hub.widgets.append(Widget(plugin=plugin, column=column, position=position, config=config))


def populate(session: Session, say: Callable[[str], None] = print) -> dict[str, int]:
    """Add whatever demo rows are missing; return how many of each were added."""
    added = {"users": 0, "hubs": 0, "memberships": 0}
    users = {}
    for username, fullname in DEMO_USERS:
        user, created = _get_or_create(
            session,
            User,
            {"fullname": fullname, "email": f"{username}@fedoraproject.org"},
            username=username,
        )
        users[username] = user
        added["users"] += created
        hub, created = _ensure_hub(
            session, username, HubType.user, summary=fullname, description=""
        )
        added["hubs"] += created
        if created:
            added["memberships"] += _ensure_role(session, hub, user, Role.owner)
    say(f"users: {len(DEMO_USERS)} demo users, {added['users']} new")

    for team in DEMO_TEAMS:
        hub, created = _ensure_hub(
            session, team.name, HubType.team, summary=team.summary, description=team.description
        )
        added["hubs"] += created
        say(f"team hub {team.name}: {'created' if created else 'already there, left as it is'}")
        if not created:
            continue
        _configure(hub, team)
        for role, names in (
            (Role.owner, team.owners),
            (Role.member, team.members),
            (Role.subscriber, team.subscribers),
            (Role.stargazer, team.stargazers),
        ):
            for username in names:
                added["memberships"] += _ensure_role(session, hub, users[username], role)
    session.commit()
    return added


CORPUS = os.environ.get("HUBS_DEMO_MESSAGES", str(FEDMSG_CORPUS))


def load_messages(
    session: Session, path: str, say: Callable[[str], None] = print, days: int = 30
) -> int:
    """Fill the message store with real bus messages, their times spread over the last
    ``days`` days (in their order) so activity widgets look alive. Returns how many new.

    Once any of them is stored, the file counts as loaded: retention pruning the old
    ones is not undone by the next run (that is what --reset is for)."""
    from hubs.backend.store import message_id, store_message
    from hubs.bus import message_people_and_packages
    from hubs.models import Message

    with open(path) as handle:
        messages = [json.loads(line)["msg"] for line in handle if line.strip()]
    messages.sort(key=lambda message: message.get("timestamp") or 0)
    # The message's own id, or one made from its content: the same on every run.
    ids = [message_id(message) for message in messages]
    stored = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        stored += session.scalar(
            sa.select(sa.func.count()).select_from(Message).where(Message.msg_id.in_(chunk))
        )
    if stored:
        say(f"messages: {os.path.basename(path)} was loaded before ({stored} still stored)")
        return 0
    now = utcnow().timestamp()
    added = 0
    for index, (original, msg_id) in enumerate(zip(messages, ids, strict=True)):
        message = {**original, "msg_id": msg_id}
        message["timestamp"] = now - 60 - days * 86400 * (len(messages) - 1 - index) / len(messages)
        usernames, packages = message_people_and_packages(message)
        added += store_message(session, message, usernames, packages) is not None
        if (index + 1) % 100 == 0 or index + 1 == len(messages):
            say(f"messages: {index + 1}/{len(messages)} read, {added} new")
    session.commit()
    return added


def reset(session: Session) -> None:
    for table in reversed(Base.metadata.sorted_tables):
        session.execute(table.delete())
    session.commit()


def warm_cache(session: Session, say: Callable[[str], None] = print) -> int:
    """Build the cached data of every widget, so first page views draw inline."""
    from hubs.models import Widget
    from hubs.widgets import get_widget_type

    widgets = session.scalars(sa.select(Widget)).all()
    built = 0
    for widget in widgets:
        widget_type = get_widget_type(widget.plugin)
        if widget_type is not None and widget_type.rebuild(session, widget)["ok"]:
            built += 1
    say(f"cache: built the data of {built} of {len(widgets)} widgets")
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reset", action="store_true", help="delete every row first")
    parser.add_argument(
        "--no-cache", action="store_true", help="do not build the widgets' cached data"
    )
    parser.add_argument(
        "--messages",
        default=CORPUS,
        help="bus messages (JSON lines) for the message store (default: %(default)s)",
    )
    args = parser.parse_args(argv)

    from hubs.app import create_app

    config = load_config()
    url = config["DATABASE_URL"]
    print(f"database: {sa.make_url(url).render_as_string(hide_password=True)}")
    upgrade(url)
    print("schema: at the latest migration")
    app = create_app()
    with app.app_context(), writing():
        from hubs.database import db

        session = db.session
        if args.reset:
            reset(session)
            print("reset: every table emptied")
        added = populate(session)
        if args.messages and os.path.exists(args.messages):
            load_messages(session, args.messages)
        else:
            print(f"messages: none loaded ({args.messages} not found)")
        load_messages(session, str(HELP_CALLS), days=21)
        counts = {
            name: session.scalar(sa.select(sa.func.count()).select_from(table))
            for name, table in Base.metadata.tables.items()
        }
        print("added: " + ", ".join(f"{n} {k}" for k, n in added.items()))
        print("rows: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
        if not args.no_cache:
            warm_cache(session)
    return 0


if __name__ == "__main__":
    sys.exit(main())
