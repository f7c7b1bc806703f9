"""Rows for tests: small functions with sensible defaults."""

from __future__ import annotations

import copy
import itertools

from hubs.models import Column, Hub, HubType, Membership, Role, User, Widget

_numbers = itertools.count(1)


def user(session, username: str | None = None, **fields) -> User:
    username = username or f"user{next(_numbers)}"
    row = User(username=username, fullname=fields.pop("fullname", username.title()), **fields)
    session.add(row)
    session.flush()
    return row


def hub(session, name: str | None = None, type: HubType = HubType.team, **fields) -> Hub:
    row = Hub(name=name or f"hub{next(_numbers)}", type=type, **fields)
    session.add(row)
    session.flush()
    return row


def role(session, hub: Hub, user: User, role: Role) -> Membership:
    row = Membership(hub=hub, user=user, role=role)
    session.add(row)
    session.flush()
    return row


def widget(session, hub: Hub, plugin: str, column: Column = Column.left, **config) -> Widget:
    position = sum(1 for w in hub.widgets if w.column == column)
    row = Widget(hub=hub, plugin=plugin, column=column, position=position, config=config)
    session.add(row)
    session.flush()
    return row


def hubs_message(topic_suffix: str, **fields) -> dict:
    """A message as hubs publishes it on the bus (topic with the dev prefix)."""
    return {
        "topic": f"org.fedoraproject.dev.{topic_suffix}",
        "msg": fields,
        "timestamp": 1764288000,
        "msg_id": f"2026-{next(_numbers):08d}",
    }


def fresh_copy(message: dict, msg_id: str) -> dict:
    """A copy of a (corpus) message under a new msg_id: the store takes it as new."""
    return {**copy.deepcopy(message), "msg_id": msg_id}


class RecordingPublisher:
    """The backend's publisher, keeping what it was given instead of sending it."""

    def __init__(self):
        self.events = []
        self.sent = []

    def publish(self, event):
        self.events.append(event)

    def send(self, stream, kind, payload):
        self.sent.append((stream, kind, payload))

    def close(self):
        """Nothing to release."""
