"""A team hub with people in every role, and every state-changing endpoint."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from hubs import changes, revisions
from hubs.backend.store import store_message
from hubs.demo import HELP_CALLS as DEMO_HELP_CALLS
from hubs.models import (
    Column,
    HubRevision,
    HubType,
    Invitation,
    JoinRequest,
    Membership,
    ResolvedHelpRequest,
    Role,
    StreamUnread,
    User,
    Widget,
)
from tests import factories
from tests.html import with_role

PERSONAS = ["anonymous", "stranger", "subscriber", "member", "owner", "other_owner"]


@pytest.fixture
def team(session):
    """infrastructure: owners nirik and puiterwijk, member ralph, subscriber mizmo;
    jflory7 owns marketing; bex asked to join; lmacken is nobody here, invited by nirik
    to be a member; ralph marked one stream entry unread again. Its one revision is from
    before its halp widget was added."""
    people = {
        name: factories.user(session, name)
        for name in ["nirik", "puiterwijk", "ralph", "mizmo", "jflory7", "bex", "lmacken"]
    }
    hub = factories.hub(session, "infrastructure")
    for name, role in [("nirik", Role.owner), ("puiterwijk", Role.owner),
                       ("ralph", Role.member), ("mizmo", Role.subscriber)]:  # fmt: skip
        factories.role(session, hub, people[name], role)
    marketing = factories.hub(session, "marketing")
    factories.role(session, marketing, people["jflory7"], Role.owner)
    for name in people:
        user_hub = factories.hub(session, name, HubType.user)
        factories.role(session, user_hub, people[name], Role.owner)
    factories.widget(session, hub, "sticky", text="Hello")
    factories.widget(session, hub, "stats", column=Column.right)
    state = changes.hub_state(session, hub)
    revisions.add_revision(
        session, hub, "nirik", "hub.created", "nirik created the hub", state, 100
    )
    factories.widget(session, hub, "halp", column=Column.right, channels=[HELP_CALL["channel"]])
    store_message(session, {**HELP_CALL_MESSAGE}, [], [])
    session.add(JoinRequest(hub_id=hub.id, user_id=people["bex"].id))
    session.add(StreamUnread(user_id=people["ralph"].id, msg_id=MARKED_UNREAD))
    session.add(
        Invitation(hub_id=hub.id, user_id=people["lmacken"].id, role=Role.member,
                   invited_by="nirik")
    )  # fmt: skip
    session.commit()
    return hub


with open(DEMO_HELP_CALLS) as _handle:
    HELP_CALL_MESSAGE = json.loads(_handle.readline())["msg"]
HELP_CALL = HELP_CALL_MESSAGE["msg"]
# The msg_id of the stream entry the member (ralph) marked unread again.
MARKED_UNREAD = "marked-unread-by-ralph"


PERSONA_USER = {
    "anonymous": None,
    "stranger": "lmacken",
    "subscriber": "mizmo",
    "member": "ralph",
    "owner": "nirik",
    "other_owner": "jflory7",
}


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str  # under ``hub``; {widget}: the sticky widget's id, {halp}: halp's,
    # {revision}: the hub's first revision
    payload: dict[str, Any]
    allowed: frozenset[str]
    form_fields: dict[str, str] | None = None  # what its form posts, when not the payload
    hub: str = "/t/infrastructure/"

    def url(self, session) -> str:
        """Where its form posts."""
        ids = {
            "widget": sticky_id(session),
            "halp": session.scalar(sa.select(Widget.id).where(Widget.plugin == "halp")),
            "revision": session.scalar(sa.select(sa.func.min(HubRevision.id))),
        }
        return self.hub + self.path.format(**ids)

    def api_url(self, session) -> str:
        """Where a script posts its JSON."""
        return "/api" + self.url(session)

    @property
    def form(self) -> dict[str, str]:
        """The payload as its form posts it: a widget's config fields beside the rest."""
        if self.form_fields is not None:
            return self.form_fields
        fields = {**self.payload, **self.payload.get("config", {})}
        fields.pop("config", None)
        return {name: str(value) for name, value in fields.items()}


OWNERS = frozenset({"owner"})
# A layout unlike the team's: a note on the left, stats on the right, a narrower left.
LAYOUT = {
    "schema": revisions.SCHEMA,
    "version": revisions.SCHEMA_VERSION,
    "left_width": 6,
    "columns": {
        "left": [{"plugin": "sticky", "config": {"text": "Imported"}}],
        "right": [{"plugin": "stats", "config": {}}],
    },
}
LOGGED_IN = frozenset(PERSONAS) - {"anonymous"}
ENDPOINTS = [
    Endpoint("settings", "settings", {"summary": "Changed"}, OWNERS),
    Endpoint("add widget", "widgets", {"plugin": "sticky", "config": {"text": "x"}}, OWNERS),
    Endpoint("widget config", "w/{widget}/config", {"config": {"text": "New"}}, OWNERS),
    Endpoint("move widget", "w/{widget}/move", {"column": "right", "position": 0}, OWNERS),
    Endpoint("delete widget", "w/{widget}/delete", {}, OWNERS),
    Endpoint("add member", "members", {"username": "mizmo", "role": "member"}, OWNERS),
    Endpoint("remove member", "members/ralph/remove", {"role": "member"}, OWNERS),
    Endpoint("approve", "requests/bex/approve", {}, OWNERS),
    Endpoint("decline", "requests/bex/decline", {}, OWNERS),
    Endpoint("restore", "history/{revision}/restore", {}, OWNERS),
    Endpoint("restore defaults", "history/defaults", {}, OWNERS),
    Endpoint("import", "import", LAYOUT, OWNERS, form_fields={"document": json.dumps(LAYOUT)}),
    Endpoint("accept invitation", "invitation/accept", {}, frozenset({"stranger"})),
    Endpoint("decline invitation", "invitation/decline", {}, frozenset({"stranger"})),
    Endpoint("subscribe", "subscribe", {}, LOGGED_IN),
    Endpoint("unsubscribe", "unsubscribe", {}, LOGGED_IN),
    Endpoint("star", "star", {}, LOGGED_IN),
    Endpoint("unstar", "unstar", {}, LOGGED_IN),
    Endpoint("join", "join", {}, frozenset({"stranger", "subscriber", "other_owner"})),
    Endpoint("leave", "leave", {}, frozenset({"member", "owner"})),
    Endpoint(
        "resolve help",
        "w/{halp}/halp/resolve",
        {"msg_id": HELP_CALL_MESSAGE["msg_id"]},
        frozenset({"member", "owner"}),
    ),
    # My Stream's read marks: the member's (ralph's) own stream only.
    Endpoint(
        "mark unread", "stream/unread", {"msg_id": HELP_CALL_MESSAGE["msg_id"]},
        frozenset({"member"}), hub="/u/ralph/",
    ),
    Endpoint(
        "mark read", "stream/read", {"msg_id": MARKED_UNREAD}, frozenset({"member"}),
        hub="/u/ralph/",
    ),
    # The language of one's pages: one's own account only.
    Endpoint(
        "language", "account/language", {"locale": "fr"}, frozenset({"member"}),
        hub="/u/ralph/",
    ),
]  # fmt: skip


def snapshot(session) -> dict[str, list]:
    """Every row a change could touch."""
    session.expire_all()
    return {
        "memberships": sorted(
            session.execute(sa.select(Membership.hub_id, Membership.user_id, Membership.role))
        ),
        "widgets": sorted(
            (w.id, w.column.value, w.position, repr(w.config))
            for w in session.scalars(sa.select(Widget))
        ),
        "requests": sorted(session.execute(sa.select(JoinRequest.hub_id, JoinRequest.user_id))),
        "hubs": sorted(
            session.execute(sa.text("SELECT id, summary, description, archived FROM hubs"))
        ),
        "users": sorted(session.execute(sa.select(User.username, User.locale))),
        "resolved": sorted(session.scalars(sa.select(ResolvedHelpRequest.msg_id))),
        "invitations": sorted(
            session.execute(sa.select(Invitation.hub_id, Invitation.user_id, Invitation.role))
        ),
        "revisions": sorted(session.execute(sa.select(HubRevision.id, HubRevision.sentence))),
        "unread": sorted(session.execute(sa.select(StreamUnread.user_id, StreamUnread.msg_id))),
    }


def sticky_id(session) -> int:
    return session.scalar(sa.select(Widget.id).where(Widget.plugin == "sticky"))


@pytest.fixture
def infra(session):
    """infrastructure: owner nirik, member ralph, mizmo subscribed and starred; an about,
    a sticky note and a stats widget."""
    owner = factories.user(session, "nirik", fullname="Kevin Fenzi")
    member = factories.user(session, "ralph")
    fan = factories.user(session, "mizmo")
    hub = factories.hub(session, "infrastructure", summary="Fedora Infrastructure")
    factories.role(session, hub, owner, Role.owner)
    factories.role(session, hub, member, Role.member)
    factories.role(session, hub, fan, Role.subscriber)
    factories.role(session, hub, fan, Role.stargazer)
    factories.widget(session, hub, "about")
    factories.widget(session, hub, "sticky", text="Read the *SOPs*")
    factories.widget(session, hub, "stats", column=Column.right)
    session.commit()
    return hub


def fill_every_widget(client, html):
    for widget in with_role(html, "widget"):
        assert client.get(widget["data-src"]).status_code == 200
