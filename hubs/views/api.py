"""The JSON API for scripts: every change a hub's forms make, at the same path under
``/api`` (``POST /api/t/infrastructure/widgets``), taking a JSON object.

Each view checks ``hubs.permissions`` (``hub_action``, ``my_stream.own_hub``) and
calls the change the form calls (``hubs.views.edits``, ``hubs.views.help_calls``,
``hubs.views.my_stream``). A widget is configured with ``{"config": {...}, "title":
"..."}`` (its own title, shown instead of its kind's; either left out stays as it is).
The answer is ``{"ok": true, "message": ...}`` with the change's own fields, or an
error document (``hubs.errors``) with the reason of each refused field. Like every POST it needs the
CSRF token (the ``X-CSRFToken`` header; a page has it in ``<meta name="csrf-token">``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import wraps
from typing import Any

from flask import Blueprint, abort, jsonify, request

from hubs import changes
from hubs.database import db
from hubs.errors import error_document
from hubs.i18n import _
from hubs.models import Role
from hubs.permissions import Action
from hubs.views import account, edits, help_calls, my_stream
from hubs.views.edits import Done, Refused, hub_action
from hubs.views.hubs import HUB_URL

bp = Blueprint("api", __name__, url_prefix="/api")


def api_post(
    view: Callable[..., Done] | None = None,
    *,
    fields: Collection[str] | None = None,
    required: Collection[str] = (),
) -> Callable:
    """Hand the view the request's JSON object as ``data``, and answer in JSON. With
    ``fields``, the object's keys must be among them and hold those of ``required``: a
    misspelt key is refused (400, naming it) rather than read as left out."""

    def decorate(view: Callable[..., Done]) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not request.is_json:
                abort(415, _("Send a JSON object, with the header Content-Type: application/json."))
            data: Any = request.get_json(silent=True)
            if not isinstance(data, dict):
                abort(400, _("The request body must be a JSON object."))
            try:
                if fields is not None:
                    _check_fields(data, fields, required)
                done = view(*args, data=data, **kwargs)
            except Refused as refused:
                db.session.rollback()
                document = error_document(refused.status, refused.message, refused.errors)
                return jsonify(document), refused.status
            return jsonify(ok=True, message=done.message, **done.fields)

        return wrapper

    return decorate(view) if view is not None else decorate


def _check_fields(data: dict, fields: Collection[str], required: Collection[str]) -> None:
    errors = {key: _("is not a known field") for key in data if key not in fields}
    errors |= {key: _("is required") for key in required if key not in data}
    if errors:
        raise Refused(
            _("Fields this address takes: %(fields)s.", fields=", ".join(sorted(fields))),
            errors=errors,
        )


# -- settings and widgets ------------------------------------------------------------------


@bp.post(HUB_URL + "settings")
@hub_action(Action.EDIT_HUB)
@api_post
def update_settings(hub, data):
    return edits.save_settings(hub, data)


@bp.post(HUB_URL + "widgets")
@hub_action(Action.EDIT_HUB)
@api_post(fields=("plugin", "column", "title", "config"))
def create_widget(hub, data):
    kind = edits.widget_type(data.get("plugin"))
    where = edits.column(data.get("column"))
    title = data.get("title", changes.UNCHANGED)
    return edits.add_widget(hub, kind, where, data.get("config", {}), title)


@bp.post(HUB_URL + "w/<id:widget_id>/config")
@hub_action(Action.EDIT_HUB)
@api_post
def update_widget_config(hub, widget_id: int, data):
    widget = edits.hub_widget(hub, widget_id)
    edits.type_of(widget)
    if "config" in data or set(data) == {"title"}:  # each left out stays as it is
        config, title = (data.get(key, changes.UNCHANGED) for key in ("config", "title"))
        return edits.save_widget(widget, config, title)
    return edits.save_widget(widget, data)  # the config alone, as the body


@bp.post(HUB_URL + "w/<id:widget_id>/move")
@hub_action(Action.EDIT_HUB)
@api_post
def move_widget(hub, widget_id: int, data):
    return edits.move_widget(edits.hub_widget(hub, widget_id), data)


@bp.post(HUB_URL + "w/<id:widget_id>/delete")
@hub_action(Action.EDIT_HUB)
@api_post
def delete_widget(hub, widget_id: int, data):
    return edits.delete_widget(edits.hub_widget(hub, widget_id))


@bp.post(HUB_URL + "w/<id:widget_id>/halp/resolve")
@hub_action(Action.RESOLVE_HELP)
@api_post(fields=("msg_id",), required=("msg_id",))
def resolve_help(hub, widget_id: int, data):
    return help_calls.resolve(hub, widget_id, data.get("msg_id"))


# -- history: restore, import, defaults ------------------------------------------------------


@bp.post(HUB_URL + "history/<id:revision_id>/restore")
@hub_action(Action.EDIT_HUB)
@api_post
def restore(hub, revision_id: int, data):
    return edits.restore(hub, revision_id)


@bp.post(HUB_URL + "history/defaults")
@hub_action(Action.EDIT_HUB)
@api_post
def restore_defaults(hub, data):
    return edits.restore_defaults(hub)


@bp.post(HUB_URL + "import")
@hub_action(Action.EDIT_HUB)
@api_post
def import_layout(hub, data):
    """The body is the layout document itself, as ``GET …/export`` gives it."""
    return edits.import_layout(hub, data)


# -- following, joining, leaving -------------------------------------------------------


@bp.post(HUB_URL + "subscribe")
@hub_action(Action.FOLLOW)
@api_post
def subscribe(hub, data):
    return edits.follow(hub, Role.subscriber, on=True)


@bp.post(HUB_URL + "unsubscribe")
@hub_action(Action.FOLLOW)
@api_post
def unsubscribe(hub, data):
    return edits.follow(hub, Role.subscriber, on=False)


@bp.post(HUB_URL + "star")
@hub_action(Action.FOLLOW)
@api_post
def star(hub, data):
    return edits.follow(hub, Role.stargazer, on=True)


@bp.post(HUB_URL + "unstar")
@hub_action(Action.FOLLOW)
@api_post
def unstar(hub, data):
    return edits.follow(hub, Role.stargazer, on=False)


@bp.post(HUB_URL + "join")
@hub_action(Action.JOIN)
@api_post
def join(hub, data):
    return edits.join(hub)


@bp.post(HUB_URL + "leave")
@hub_action(Action.LEAVE)
@api_post
def leave(hub, data):
    return edits.leave(hub)


@bp.post(HUB_URL + "invitation/accept")
@hub_action(Action.ANSWER_INVITATION)
@api_post
def accept_invitation(hub, data):
    return edits.answer_invitation(hub, accept=True)


@bp.post(HUB_URL + "invitation/decline")
@hub_action(Action.ANSWER_INVITATION)
@api_post
def decline_invitation(hub, data):
    return edits.answer_invitation(hub, accept=False)


# -- members and requests (owners) -----------------------------------------------------


@bp.post(HUB_URL + "members")
@hub_action(Action.MANAGE_MEMBERS)
@api_post(fields=("username", "role"), required=("username",))
def add_member(hub, data):
    return edits.add_member(hub, str(data.get("username", "")), data.get("role", "member"))


@bp.post(HUB_URL + "members/<username>/remove")
@hub_action(Action.MANAGE_MEMBERS)
@api_post(fields=("role",))
def remove_member(hub, username: str, data):
    return edits.remove_member(hub, username, data.get("role", "member"))


@bp.post(HUB_URL + "requests/<username>/approve")
@hub_action(Action.MANAGE_MEMBERS)
@api_post
def approve(hub, username: str, data):
    return edits.answer_request(hub, username, approve=True)


@bp.post(HUB_URL + "requests/<username>/decline")
@hub_action(Action.MANAGE_MEMBERS)
@api_post
def decline(hub, username: str, data):
    return edits.answer_request(hub, username, approve=False)


# -- saved notifications (their owner only) -------------------------------------------------


@bp.post(my_stream.MINE + "saved")
@my_stream.own_hub
@api_post(fields=("msg_id",), required=("msg_id",))
def save(hub, data):
    return my_stream.save(hub, data.get("msg_id"))


@bp.post(my_stream.MINE + "saved/delete")
@my_stream.own_hub
@api_post(fields=("msg_id",), required=("msg_id",))
def unsave(hub, data):
    return my_stream.unsave(hub, data.get("msg_id"))


@bp.post(my_stream.MINE + "stream/unread")
@my_stream.own_hub
@api_post(fields=("msg_id",), required=("msg_id",))
def mark_unread(hub, data):
    return my_stream.mark_unread(hub, data.get("msg_id"))


@bp.post(my_stream.MINE + "stream/read")
@my_stream.own_hub
@api_post(fields=("msg_id",), required=("msg_id",))
def mark_read(hub, data):
    return my_stream.mark_read(hub, data.get("msg_id"))


# -- account settings (their user only) ------------------------------------------------------


@bp.post(account.MINE + "account/language")
@account.own_account
@api_post(fields=("locale",), required=("locale",))
def set_language(hub, data):
    return account.set_language(hub, data.get("locale"))
