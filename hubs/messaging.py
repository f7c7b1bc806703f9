"""fedora-messaging, today's Fedora bus (AMQP on RabbitMQ), beside fedmsg.

- ``bus_message()`` turns a fedora-messaging ``Message`` into the value the backend,
  the store and the feeds read for any bus message: a fedmsg-shaped dict ``{topic,
  msg_id, timestamp, msg}``. When a schema package knows the message's class, what the
  schema says of it (usernames, packages, summary, url, agent, icons) rides along under
  ``SCHEMA_KEY``, and wins over fedmsg.meta (hubs/bus.py); a message of no known schema
  is read by fedmsg.meta from its body, as a fedmsg message would be.
- ``HubsMessage`` is the schema class of hubs' own messages, registered under the
  ``fedora.messages`` entry point (setup.py).
- ``MessagingSender`` publishes hubs' own messages on fedora-messaging, when
  ``BUS = "fedora-messaging"``.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

from fedora_messaging import message as fm_message

from hubs.meta import english_description, hub_link, people

log = logging.getLogger(__name__)

SCHEMA_KEY = "fedora_messaging"
# What a schema class says of its message, kept with the message.
SCHEMA_FIELDS = ("summary", "url", "agent_name", "agent_avatar", "app_name", "app_icon")
SCHEMA_LISTS = ("usernames", "packages", "groups")


def _schema_reading(message: fm_message.Message) -> dict[str, Any] | None:
    """What the message's schema class says of it; None when no schema package
    registered its class (then fedmsg.meta reads the body). A property that raises (a
    schema's bug on an unexpected body) is left out, not fatal."""
    if type(message) is fm_message.Message:
        return None
    cls = type(message)
    reading: dict[str, Any] = {"schema": f"{cls.__module__}:{cls.__qualname__}"}
    for name in SCHEMA_FIELDS + SCHEMA_LISTS:
        try:
            value = getattr(message, name)
        except Exception:
            log.debug("%s.%s failed on %s", reading["schema"], name, message.id, exc_info=True)
            continue
        if name in SCHEMA_LISTS:
            value = sorted({item for item in value or () if isinstance(item, str)})
        elif value is not None and not isinstance(value, str):
            value = str(value)
        reading[name] = value
    return reading


def sent_at(headers: dict[str, Any]) -> float | None:
    """The ``sent-at`` header as a POSIX time; None when it is missing or broken."""
    stamp = headers.get("sent-at")
    if not isinstance(stamp, str):
        return None
    try:
        when = dt.datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def bus_message(message: fm_message.Message) -> dict[str, Any]:
    """The fedmsg-shaped value of a fedora-messaging message (see the module's doc)."""
    headers = dict(message._headers or {})
    value: dict[str, Any] = {"topic": message.topic, "msg_id": message.id, "msg": message.body}
    if "sent-at" in headers:  # without one, like an old fedmsg message: stored as of now
        when = sent_at(headers)
        # A broken one is kept as it came: the store counts the message as invalid.
        value["timestamp"] = when if when is not None else str(headers["sent-at"])
    reading = _schema_reading(message)
    if reading is not None:
        value[SCHEMA_KEY] = reading
    return value


class HubsMessage(fm_message.Message):
    """A change to Fedora Hubs: a hub, its widgets, its people (topics ``hubs.*``).

    The body is what hubs publishes on fedmsg (hubs/meta.py lists its fields)."""

    body_schema = {
        "id": "https://hubs.fedoraproject.org/message-schemas/v1/hubs.json",
        "$schema": "http://json-schema.org/draft-04/schema#",
        "description": "A change to a hub, its widgets or its people",
        "type": "object",
        "properties": {
            "hub_id": {"type": "integer"},
            "hub_name": {"type": "string"},
            "hub_type": {"type": "string"},
            "hub_url": {"type": "string"},
            "widget_id": {"type": "integer"},
            "username": {"type": "string"},
            "agent": {"type": "string"},
        },
    }

    @property
    def app_name(self) -> str:
        return "hubs"

    @property
    def app_icon(self) -> str:
        return "https://hubs.fedoraproject.org/static/favicon.svg"

    @property
    def summary(self) -> str:
        return english_description(self.topic, self.body)

    def __str__(self) -> str:
        return self.summary

    @property
    def url(self) -> str | None:
        return hub_link(self.topic, self.body) or None

    @property
    def agent_name(self) -> str | None:
        return self.body.get("agent") or self.body.get("username")

    @property
    def usernames(self) -> list[str]:
        return sorted(people(self.body))


class MessagingSender:
    """Publishes hubs' own messages with fedora_messaging.api.publish (its settings come
    from $FEDORA_MESSAGING_CONF, as for every fedora-messaging program)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __call__(self, topic: str, fields: dict[str, Any]) -> None:
        from fedora_messaging import api

        message = HubsMessage(topic=f"hubs.{topic}", body=fields)
        with self._lock:
            api.publish(message)
