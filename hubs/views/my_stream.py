"""My Stream, its filters and read marks, the notification counts, and saved
notifications: their owner only."""

from __future__ import annotations

import re
from functools import wraps
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, jsonify, render_template, request

from hubs import changes
from hubs.accounts import is_account_name
from hubs.database import db
from hubs.entries import saved_entry
from hubs.i18n import _
from hubs.identity import current_user
from hubs.models import Hub, Message, SavedNotification, User
from hubs.my_stream import (
    UNREAD_CAP,
    StreamFilter,
    filtered_people,
    followed_hubs,
    grouped,
    last_read_id,
    mark_stream_read,
    marked_unread,
    set_unread,
    stream_messages,
    unread_count,
)
from hubs.permissions import Action, require
from hubs.views.edits import Done, Refused
from hubs.views.forms import form_post
from hubs.views.hubs import hub_or_404, render_started
from hubs.views.params import page_cursor
from hubs.widgets.validators import storable

bp = Blueprint("stream", __name__)

PER_PAGE = 20
MINE = "/u/<name>/"
# A message category, as fedmsg names services: "bodhi", "pagure", "hubs".
CATEGORY = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
# The query string arguments a filtered stream keeps in its links.
FILTER_ARGS = ("hub", "service", "person", "mine")


def _own_hub(name: str) -> Hub:
    hub = hub_or_404("u", name)
    require(current_user(), Action.READ_STREAM, hub)
    return hub


def stream_filter(username: str) -> StreamFilter:
    """The filters of the query string (?hub=t/design&service=bodhi&person=ralph&mine=1),
    checked: one that is not understood is a 400 saying what it takes."""
    args = request.args
    hub = None
    if args.get("hub"):
        kind, _slash, hub_name = args["hub"].partition("/")
        hub = next(
            (
                h
                for h in followed_hubs(db.session, username)
                if h.url_path == f"/{kind}/{hub_name}/"
            ),
            None,
        )
        if hub is None:
            abort(400, _("hub must be one of the hubs your stream follows, like t/infrastructure."))
    category = args.get("service") or None
    if category is not None and not CATEGORY.fullmatch(category):
        abort(400, _("service must be a message category, like bodhi or pagure."))
    person = args.get("person") or None
    if person is not None and not is_account_name(person):
        abort(400, _("person must be an account name."))
    if args.get("mine", "") not in ("", "1"):
        abort(400, _("mine must be 1 (only what involves you) or left out."))
    return StreamFilter(hub=hub, category=category, person=person, mine=args.get("mine") == "1")


def filter_args(narrowed: StreamFilter) -> dict[str, str]:
    """The query string arguments of ``narrowed``, for links that keep it."""
    args = {
        "hub": narrowed.hub.url_path.strip("/") if narrowed.hub else None,
        "service": narrowed.category,
        "person": narrowed.person,
        "mine": "1" if narrowed.mine else None,
    }
    return {key: value for key, value in args.items() if value}


def _page(name: str, narrowed: StreamFilter, read_up_to: int):
    messages = stream_messages(db.session, name, PER_PAGE + 1, page_cursor(_("Older")), narrowed)
    shown = messages[:PER_PAGE]
    user = current_user()
    saved = set(
        db.session.scalars(
            sa.select(SavedNotification.msg_id).where(
                SavedNotification.user_id == user.id,
                SavedNotification.msg_id.in_([m.msg_id for m in shown]),
            )
        )
    )
    last = shown[-1] if len(messages) > PER_PAGE else None
    entries = grouped(shown, name)
    marked = marked_unread(db.session, user, [shown["key"] for shown in entries])
    for shown in entries:
        shown["unread"] = shown["id"] > read_up_to or shown["key"] in marked
        shown["marked_unread"] = shown["key"] in marked
    return entries, saved, last


def _filter_choices(name: str) -> dict[str, Any]:
    """What the filter form offers: the hubs the stream follows, and the services of
    the messages stored."""
    services = db.session.scalars(
        sa.select(Message.category).distinct().order_by(Message.category).limit(100)
    )
    return {"hubs": followed_hubs(db.session, name), "services": list(services)}


@bp.route(MINE + "stream")
def stream_page(name: str):
    hub = _own_hub(name)
    narrowed = stream_filter(name)
    # Opening the stream reads it: what came since the last visit is shown as new, once.
    read_up_to = mark_stream_read(db.session, current_user())
    entries, saved, last = _page(name, narrowed, read_up_to)
    since = render_started()
    return render_template(
        "stream.html", hub=hub, entries=entries, saved=saved, last=last, since=since,
        narrowed=narrowed, filters=filter_args(narrowed), **_filter_choices(name),
    )  # fmt: skip


@bp.route(MINE + "stream/older")
def stream_older(name: str):
    _own_hub(name)
    narrowed = stream_filter(name)
    entries, saved, last = _page(name, narrowed, last_read_id(db.session, current_user()))
    return render_template(
        "stream_page.html", entries=entries, saved=saved, last=last, name=name,
        filters=filter_args(narrowed),
    )  # fmt: skip


@bp.route(MINE + "stream/entry")
def stream_entry(name: str):
    """A message as the stream shows it: what the page puts on top when the stream
    pushes it (nothing, 204, when the page's filters leave it out). On the first page,
    that is the entry holding it (a run of changes grows: the page puts it in the place
    of the one it shows, which has the same msg_id)."""
    _own_hub(name)
    narrowed = stream_filter(name)
    msg_id = request.args.get("msg_id", "")
    message = db.session.scalar(sa.select(Message).where(Message.msg_id == msg_id))
    if message is None:
        abort(404, _("There is no such message in the store."))
    if narrowed.active and not _passes(message, name, narrowed):
        return "", 204
    first_page = grouped(stream_messages(db.session, name, PER_PAGE, narrowed=narrowed), name)
    holding = [shown for shown in first_page if msg_id in shown["msg_ids"]]
    entries = holding or grouped([message], name)
    for shown in entries:
        shown["unread"] = True  # it came after the page was opened
    return render_template(
        "_stream_entries.html", entries=entries, saved=set(), name=name,
        filters=filter_args(narrowed),
    )  # fmt: skip


def _passes(message: Message, name: str, narrowed: StreamFilter) -> bool:
    if narrowed.category is not None and message.category != narrowed.category:
        return False
    return not filtered_people(db.session, name, narrowed).isdisjoint(message.usernames or [])


@bp.route(MINE + "notifications")
def notifications(name: str):
    """What the navbar counts: unread stream entries, and requests to join one's hubs."""
    _own_hub(name)
    return jsonify(notification_counts(current_user()))


def notification_counts(user: User) -> dict[str, Any]:
    """The navbar's counts for ``user``: ``unread`` (at most UNREAD_CAP + 1, shown as
    "99+") and ``requests``, with the text each shows."""
    unread = unread_count(db.session, user)
    requests = changes.count_requests_to_answer(db.session, user)
    return {
        "unread": unread,
        "unread_text": f"{UNREAD_CAP}+" if unread > UNREAD_CAP else str(unread),
        "requests": requests,
    }


@bp.route(MINE + "saved")
def saved_page(name: str):
    hub = _own_hub(name)
    rows = db.session.scalars(
        sa.select(SavedNotification)
        .where(SavedNotification.user_id == current_user().id)
        .order_by(SavedNotification.timestamp.desc())
    ).all()
    shown = [(row, saved_entry(row)) for row in rows]
    return render_template("saved.html", hub=hub, rows=shown)


def own_hub(view):
    """Load the user hub of the URL; only its user goes on (Action.READ_STREAM)."""

    @wraps(view)
    def wrapper(name: str, **kwargs):
        return view(_own_hub(name), **kwargs)

    return wrapper


# The longest msg_id the store keeps (its column's length).
MAX_MSG_ID = 128


def _msg_id(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise Refused(_("msg_id is required."))
    try:
        storable(value)
    except ValueError as error:
        raise Refused(_("msg_id %(reason)s.", reason=error)) from None
    if len(value) > MAX_MSG_ID:
        raise Refused(_("msg_id must be at most %(max)d characters long.", max=MAX_MSG_ID))
    return value


def save(hub: Hub, msg_id: Any) -> Done:
    """Keep the message ``msg_id`` among the saved notifications of the hub's user."""
    msg_id, user = _msg_id(msg_id), current_user()
    exists = db.session.scalar(
        sa.select(SavedNotification.id).where(
            SavedNotification.user_id == user.id, SavedNotification.msg_id == msg_id
        )
    )
    if exists is None:
        message = db.session.scalar(sa.select(Message).where(Message.msg_id == msg_id))
        if message is None:
            raise Refused(_("There is no such message in the store."))
        db.session.add(
            SavedNotification(
                user_id=user.id, msg_id=msg_id, topic=message.topic,
                timestamp=message.timestamp, usernames=message.usernames, body=message.body,
            )
        )  # fmt: skip
        db.session.commit()
    return Done(_("Saved."))


def unsave(hub: Hub, msg_id: Any) -> Done:
    db.session.execute(
        sa.delete(SavedNotification).where(
            SavedNotification.user_id == current_user().id,
            SavedNotification.msg_id == _msg_id(msg_id),
        )
    )
    db.session.commit()
    return Done(_("Removed from saved."))


def _stored_msg_id(value: Any) -> str:
    msg_id = _msg_id(value)
    if db.session.scalar(sa.select(Message.id).where(Message.msg_id == msg_id)) is None:
        raise Refused(_("There is no such message in the store."))
    return msg_id


def mark_unread(hub: Hub, msg_id: Any) -> Done:
    """Mark the entry ``msg_id`` unread again: it counts in the navbar until read."""
    set_unread(db.session, current_user(), _stored_msg_id(msg_id), unread=True)
    return Done(_("Marked unread."))


def mark_read(hub: Hub, msg_id: Any) -> Done:
    set_unread(db.session, current_user(), _msg_id(msg_id), unread=False)
    return Done(_("Marked read."))


def _stream_of(hub: Hub) -> str:
    return f"{hub.url_path}stream"


@bp.post(MINE + "saved")
@own_hub
@form_post(back=_stream_of)
def save_form(hub: Hub):
    return save(hub, request.form.get("msg_id"))


@bp.post(MINE + "saved/delete")
@own_hub
@form_post(back=_stream_of)
def unsave_form(hub: Hub):
    return unsave(hub, request.form.get("msg_id"))


@bp.post(MINE + "stream/unread")
@own_hub
@form_post(back=_stream_of)
def mark_unread_form(hub: Hub):
    return mark_unread(hub, request.form.get("msg_id"))


@bp.post(MINE + "stream/read")
@own_hub
@form_post(back=_stream_of)
def mark_read_form(hub: Hub):
    return mark_read(hub, request.form.get("msg_id"))
