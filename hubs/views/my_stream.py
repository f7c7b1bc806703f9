"""My Stream and saved notifications: their owner only."""

from __future__ import annotations

import time
from functools import wraps
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request

from hubs.database import db
from hubs.entries import saved_entry
from hubs.identity import current_user
from hubs.models import Hub, Message, SavedNotification
from hubs.my_stream import grouped, stream_messages
from hubs.permissions import Action, require
from hubs.views.edits import Done, Refused
from hubs.views.forms import form_post
from hubs.views.hubs import RENDER_MARGIN_SECONDS, hub_or_404
from hubs.views.params import page_cursor

bp = Blueprint("stream", __name__)

PER_PAGE = 20
MINE = "/u/<name>/"


def _own_hub(name: str) -> Hub:
    hub = hub_or_404("u", name)
    require(current_user(), Action.READ_STREAM, hub)
    return hub


def _page(name: str):
    messages = stream_messages(db.session, name, PER_PAGE + 1, page_cursor("Older"))
    shown = messages[:PER_PAGE]
    saved = set(
        db.session.scalars(
            sa.select(SavedNotification.msg_id).where(
                SavedNotification.user_id == current_user().id,
                SavedNotification.msg_id.in_([m.msg_id for m in shown]),
            )
        )
    )
    last = shown[-1] if len(messages) > PER_PAGE else None
    return grouped(shown, name), saved, last


@bp.route(MINE + "stream")
def stream_page(name: str):
    hub = _own_hub(name)
    entries, saved, last = _page(name)
    since = f"{time.time() - RENDER_MARGIN_SECONDS:.3f}"  # as a hub page's (hubs.views.hubs)
    return render_template(
        "stream.html", hub=hub, entries=entries, saved=saved, last=last, since=since
    )


@bp.route(MINE + "stream/older")
def stream_older(name: str):
    _own_hub(name)
    entries, saved, last = _page(name)
    return render_template("stream_page.html", entries=entries, saved=saved, last=last, name=name)


@bp.route(MINE + "stream/entry")
def stream_entry(name: str):
    """A message as the stream shows it: what the page puts on top when the stream
    pushes it. On the first page, that is the entry holding it (a run of changes grows:
    the page puts it in the place of the one it shows, which has the same msg_id)."""
    _own_hub(name)
    msg_id = request.args.get("msg_id", "")
    message = db.session.scalar(sa.select(Message).where(Message.msg_id == msg_id))
    if message is None:
        abort(404, "There is no such message in the store.")
    first_page = grouped(stream_messages(db.session, name, PER_PAGE), name)
    holding = [shown for shown in first_page if msg_id in shown["msg_ids"]]
    entries = holding or grouped([message], name)
    return render_template("_stream_entries.html", entries=entries, saved=set(), name=name)


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


def _msg_id(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise Refused("msg_id is required.")
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
            raise Refused("There is no such message in the store.")
        db.session.add(
            SavedNotification(
                user_id=user.id, msg_id=msg_id, topic=message.topic,
                timestamp=message.timestamp, usernames=message.usernames, body=message.body,
            )
        )  # fmt: skip
        db.session.commit()
    return Done("Saved.")


def unsave(hub: Hub, msg_id: Any) -> Done:
    db.session.execute(
        sa.delete(SavedNotification).where(
            SavedNotification.user_id == current_user().id,
            SavedNotification.msg_id == _msg_id(msg_id),
        )
    )
    db.session.commit()
    return Done("Removed from saved.")


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
