"""Updates to stable: a packager's Bodhi updates in testing that may now go to stable."""

import datetime as dt

from flask import current_app

from hubs.clients.bodhi import BodhiClient, Update
from hubs.i18n import _l
from hubs.messages import body, topic_suffix
from hubs.people import widget_user, widget_user_list
from hubs.widgets import validators
from hubs.widgets.base import Argument, Chrome, hints

TITLE = _l("Updates to stable")
DESCRIPTION = _l("A packager's Bodhi updates in testing that can now be pushed to stable.")
HUB_TYPES = ("user",)  # a packager's updates
CLIENTS = [BodhiClient]  # the services it calls
ARGUMENTS = [
    Argument(
        "username",
        default="",
        validator=validators.optional(validators.username),
        help=_l("Whose updates; empty: the user of this (user) hub."),
        label=_l("Username"),
    ),
    Argument(
        "limit",
        default=10,
        validator=validators.integer(1, 50),
        help=_l("How many updates to show."),
        label=_l("Limit"),
    ),
]

template = "updates2stable.html"
chrome = Chrome(title=_l("Updates to stable"))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _days_in_testing(update: Update, now: dt.datetime) -> int:
    return max((now - update.date_testing).days, 0) if update.date_testing else 0


def data(session, widget, username: str, limit: int) -> dict:
    user = username or widget_user(widget)
    if not user:
        return {"username": "", "updates": [], "total": 0}
    config = current_app.config
    client = BodhiClient.from_config(config)
    now = _now()
    ready = [u for u in client.updates_in_testing(user) if u.can_be_pushed_to_stable]
    # Those waiting longest first: they are the ones the packager forgot.
    ready.sort(key=lambda update: _days_in_testing(update, now), reverse=True)
    return {
        "username": user,
        "total": len(ready),
        "all_updates": client.user_updates_url(user),
        "updates": [
            {
                "alias": u.alias,
                "title": u.title,
                "builds": list(u.builds),
                "release": u.release,
                "karma": u.karma,
                "stable_karma": u.stable_karma,
                "days_in_testing": _days_in_testing(u, now),
                "url": client.update_url(u.alias),
            }
            for u in ready[:limit]
        ],
    }


# Bodhi's messages that change whether one of a packager's updates waits for stable.
UPDATE_TOPICS = [
    "bodhi.update.comment",
    "bodhi.update.complete.stable",
    "bodhi.update.complete.testing",
    "bodhi.update.edit",
    "bodhi.update.karma.threshold",
    "bodhi.update.karma.threshold.reach",
    "bodhi.update.request.batched",
    "bodhi.update.request.obsolete",
    "bodhi.update.request.revoke",
    "bodhi.update.request.stable",
    "bodhi.update.request.testing",
    "bodhi.update.request.unpush",
    "bodhi.update.requirements_met.stable",
]


def submitter(message) -> str:
    """Who submitted the update a Bodhi message is about: update.user.name (Bodhi 2 and
    later; in a comment, comment.update), or the older update.submitter; "" if unknown."""
    payload = body(message)
    comment = payload.get("comment")
    update = payload.get("update") or (comment.get("update") if isinstance(comment, dict) else None)
    if not isinstance(update, dict):
        return ""
    for person in (update.get("user"), update.get("submitter")):
        if isinstance(person, dict):
            person = person.get("name")
        if isinstance(person, str) and person:
            return person
    return ""


@hints(topics=UPDATE_TOPICS, usernames=widget_user_list)
def should_invalidate(message, session, widget) -> bool:
    if topic_suffix(str(message.get("topic", ""))) not in UPDATE_TOPICS:
        return False
    user = widget_user(widget)
    return bool(user) and submitter(message) == user
