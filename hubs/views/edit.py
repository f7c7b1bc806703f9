"""Changing hubs: settings, widgets, memberships and join requests.

Every change is a POST (CSRF-checked by Flask-WTF for the whole app) behind
``authz.require``. Forms get a redirect (or the form again, with its errors); JSON
requests get JSON, and a 400 with the reasons when the input is refused.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps

import sqlalchemy as sa
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request

from hubs import changes
from hubs.auth import current_user
from hubs.authz import Action, require, require_help_resolver
from hubs.database import db
from hubs.errors import error_document
from hubs.forms import form_value, raw_from_form
from hubs.models import Column, HubType, Invitation, JoinRequest, Role, User, Widget
from hubs.views.auth import local_path
from hubs.views.hubs import HUB_URL, hub_or_404, widget_or_404
from hubs.widgets import get_widget_type, halp, registry, validators
from hubs.widgets.base import InvalidConfig

bp = Blueprint("edit", __name__)


# More widgets than a column could hold: a position beyond is a mistake.
MAX_POSITION = 10_000


def _json() -> bool:
    return request.is_json


def _payload() -> dict:
    if _json():
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            abort(400, "The request body must be a JSON object.")
        return data
    return request.form


def _done(hub, message: str, **fields):
    if _json():
        return jsonify(ok=True, message=message, **fields)
    flash(message, "success")
    return redirect(local_path(request.form.get("next") or hub.url_path))


def _refused(message: str, errors: dict | None = None, status: int = 400):
    if _json():
        return jsonify(error_document(status, message, errors)), status
    abort(status, message)


def hub_action(action: Action) -> Callable:
    """Load the hub of the URL and check ``action`` on it before the view runs."""

    def decorate(view):
        @wraps(view)
        def wrapper(kind: str, name: str, **kwargs):
            hub = hub_or_404(kind, name)
            require(current_user(), action, hub)
            return view(hub, **kwargs)

        return wrapper

    return decorate


def _user_or_400(username: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        abort(400, f"There is no user named {username!r}.")
    return user


# -- hub settings ----------------------------------------------------------------------


@bp.route(HUB_URL + "edit/settings")
@hub_action(Action.EDIT_HUB)
def settings_form(hub):
    return _settings_page(hub, changes.hub_settings(hub), errors={})


def _settings_page(hub, values, errors, status=200):
    """The settings form, each value as its control shows it (no avatar: an empty field)."""
    shown = {a.name: form_value(a, values.get(a.name, a.default)) for a in changes.HUB_SETTINGS}
    page = render_template(
        "edit_settings.html", hub=hub, arguments=changes.HUB_SETTINGS, values=shown, errors=errors
    )
    return page, status


@bp.route(HUB_URL + "settings", methods=["POST"])
@hub_action(Action.EDIT_HUB)
def update_settings(hub):
    raw = _payload() if _json() else raw_from_form(changes.HUB_SETTINGS, request.form)
    try:
        changed = changes.update_hub(db.session, hub, dict(raw), agent=current_user().username)
    except InvalidConfig as error:
        db.session.rollback()
        if _json():
            return _refused("Invalid hub settings.", error.errors)
        return _settings_page(hub, {**changes.hub_settings(hub), **raw}, error.errors, 400)
    return _done(hub, "Settings saved." if changed else "Nothing changed.", changed=changed)


# -- widgets ---------------------------------------------------------------------------


def _config_page(hub, widget_type, values, errors, widget=None, column="left", status=200):
    page = render_template(
        "edit_widget.html",
        hub=hub,
        widget=widget,
        widget_type=widget_type,
        widget_types=sorted(registry.values(), key=lambda t: t.title),
        values={a.name: form_value(a, values.get(a.name, a.default)) for a in widget_type.arguments}
        if widget_type
        else {},
        errors=errors,
        column=column,
    )
    return page, status


@bp.route(HUB_URL + "edit/widgets/new")
@hub_action(Action.EDIT_HUB)
def new_widget_form(hub):
    widget_type = get_widget_type(request.args.get("plugin", ""))
    return _config_page(hub, widget_type, {}, {}, column=request.args.get("column", "left"))


def _choice(kind: type[enum.Enum], value, default: str):
    """``value`` as a member of the enum ``kind``, or a 400 naming the choices."""
    try:
        return kind(value or default)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        abort(400, f"{kind.__name__.lower()} must be one of: {choices}")


def _column(value) -> Column:
    return _choice(Column, value, "left")


@bp.route(HUB_URL + "widgets", methods=["POST"])
@hub_action(Action.EDIT_HUB)
def create_widget(hub):
    data = _payload()
    widget_type = get_widget_type(str(data.get("plugin", "")))
    if widget_type is None:
        return _refused(f"There is no widget named {data.get('plugin')!r}.")
    column = _column(data.get("column"))
    if _json():
        raw = data.get("config", {})
    else:
        raw = raw_from_form(widget_type.arguments, request.form)
    try:
        widget = changes.create_widget(
            db.session, hub, widget_type.name, raw, current_user().username, column=column
        )
    except InvalidConfig as error:
        db.session.rollback()
        if _json():
            return _refused("Invalid widget config.", error.errors)
        return _config_page(hub, widget_type, raw, error.errors, column=column.value, status=400)
    except changes.ChangeRefused as error:
        db.session.rollback()
        return _refused(str(error))
    return _done(hub, f"{widget_type.title} added.", widget_id=widget.id)


def _hub_widget(hub, widget_id: int) -> Widget:
    return widget_or_404(hub.type.url_prefix, hub.name, widget_id)


@bp.route(HUB_URL + "w/<id:widget_id>/edit")
@hub_action(Action.EDIT_HUB)
def edit_widget_form(hub, widget_id: int):
    widget = _hub_widget(hub, widget_id)
    widget_type = get_widget_type(widget.plugin)
    if widget_type is None:
        abort(404, "This kind of widget is no longer available.")
    return _config_page(hub, widget_type, widget_type.config_of(widget), {}, widget=widget)


@bp.route(HUB_URL + "w/<id:widget_id>/config", methods=["POST"])
@hub_action(Action.EDIT_HUB)
def update_widget_config(hub, widget_id: int):
    widget = _hub_widget(hub, widget_id)
    widget_type = get_widget_type(widget.plugin)
    if widget_type is None:
        return _refused("This kind of widget is no longer available.")
    data = _payload()
    raw = data.get("config", data) if _json() else raw_from_form(widget_type.arguments, data)
    try:
        changed = changes.update_widget_config(
            db.session, widget, raw, agent=current_user().username
        )
    except InvalidConfig as error:
        db.session.rollback()
        if _json():
            return _refused("Invalid widget config.", error.errors)
        return _config_page(hub, widget_type, raw, error.errors, widget=widget, status=400)
    return _done(hub, "Widget saved." if changed else "Nothing changed.", changed=changed)


@bp.route(HUB_URL + "w/<id:widget_id>/move", methods=["POST"])
@hub_action(Action.EDIT_HUB)
def move_widget(hub, widget_id: int):
    widget = _hub_widget(hub, widget_id)
    data = _payload()
    column = _column(data.get("column", widget.column.value))
    try:
        position = validators.integer(0, MAX_POSITION)(data.get("position", widget.position))
    except ValueError as error:
        return _refused(f"position {error}", {"position": str(error)})
    changes.move_widget(db.session, widget, column, position, agent=current_user().username)
    return _done(hub, "Widget moved.")


@bp.route(HUB_URL + "w/<id:widget_id>/delete", methods=["POST"])
@hub_action(Action.EDIT_HUB)
def delete_widget(hub, widget_id: int):
    widget = _hub_widget(hub, widget_id)
    changes.delete_widget(db.session, widget, agent=current_user().username)
    return _done(hub, "Widget removed.")


# -- following, joining, leaving -------------------------------------------------------


def _follow(role: Role, on: bool):
    @hub_action(Action.FOLLOW)
    def view(hub):
        user = current_user()
        if on:
            changes.set_role(db.session, hub, user, role, agent=user.username)
        else:
            changes.remove_role(db.session, hub, user, role, agent=user.username)
        verb = {Role.subscriber: "Subscribed", Role.stargazer: "Starred"}[role]
        return _done(hub, f"{verb}." if on else "Done.")

    return view


for _path, _role, _on in [
    ("subscribe", Role.subscriber, True),
    ("unsubscribe", Role.subscriber, False),
    ("star", Role.stargazer, True),
    ("unstar", Role.stargazer, False),
]:
    bp.add_url_rule(HUB_URL + _path, _path, _follow(_role, _on), methods=["POST"])


@bp.route(HUB_URL + "join", methods=["POST"])
@hub_action(Action.JOIN)
def join(hub):
    asked = changes.request_to_join(db.session, hub, current_user())
    return _done(hub, "Request sent to the owners." if asked else "You asked already.")


@bp.route(HUB_URL + "leave", methods=["POST"])
@hub_action(Action.LEAVE)
def leave(hub):
    user = current_user()
    try:
        for role in (Role.member, Role.owner):
            changes.remove_role(db.session, hub, user, role, agent=user.username)
    except changes.ChangeRefused as error:
        db.session.rollback()
        return _refused(str(error))
    return _done(hub, f"You left {hub.name}.")


# -- members and requests (owners) -----------------------------------------------------


@bp.route(HUB_URL + "edit/members")
@hub_action(Action.MANAGE_MEMBERS)
def members_page(hub):
    requests = db.session.scalars(
        sa.select(JoinRequest).where(JoinRequest.hub_id == hub.id).order_by(JoinRequest.created)
    ).all()
    invitations = db.session.scalars(
        sa.select(Invitation).where(Invitation.hub_id == hub.id).order_by(Invitation.created)
    ).all()
    return render_template(
        "edit_members.html", hub=hub, requests=requests, invitations=invitations, roles=list(Role)
    )


def _role(value) -> Role:
    return _choice(Role, value, "member")


@bp.route(HUB_URL + "members", methods=["POST"])
@hub_action(Action.MANAGE_MEMBERS)
def add_member(hub):
    data = _payload()
    user = _user_or_400(str(data.get("username", "")))
    role = _role(data.get("role", "member"))
    if hub.type is HubType.user and role in (Role.owner, Role.member):
        return _refused("A user hub has no members besides its user.")
    agent = current_user()
    if role in (Role.subscriber, Role.stargazer) and user.id != agent.id:
        return _refused(f"Only {user.username} may subscribe to or star a hub for themselves.")
    try:
        outcome = changes.invite(db.session, hub, user, role, agent=agent.username)
    except changes.ChangeRefused as error:
        db.session.rollback()
        return _refused(str(error))
    if outcome == "invited":
        invited = f"{user.username} is invited to be {role.value}; they are once they accept."
        return _done(hub, invited)
    if outcome == "unchanged":
        return _done(hub, f"{user.username} is {role.value} already.")
    return _done(hub, f"{user.username} is now {role.value}.")


def _answer_invitation(accept: bool):
    @hub_action(Action.ANSWER_INVITATION)
    def view(hub):
        role = changes.answer_invitation(db.session, hub, current_user(), accept)
        if role is None:
            return _refused("You have no invitation to this hub.")
        if accept:
            return _done(hub, f"You are now {role.value} of {hub.name}.")
        return _done(hub, f"You declined to be {role.value} of {hub.name}.")

    return view


bp.add_url_rule(
    HUB_URL + "invitation/accept", "accept_invitation", _answer_invitation(True), methods=["POST"]
)
bp.add_url_rule(
    HUB_URL + "invitation/decline", "decline_invitation", _answer_invitation(False),
    methods=["POST"],
)  # fmt: skip


@bp.route(HUB_URL + "members/<username>/remove", methods=["POST"])
@hub_action(Action.MANAGE_MEMBERS)
def remove_member(hub, username: str):
    user = _user_or_400(username)
    role = _role(_payload().get("role", "member"))
    try:
        changes.remove_role(db.session, hub, user, role, agent=current_user().username)
    except changes.ChangeRefused as error:
        db.session.rollback()
        return _refused(str(error))
    return _done(hub, f"{user.username} is no longer {role.value}.")


def _answer(approve: bool):
    @hub_action(Action.MANAGE_MEMBERS)
    def view(hub, username: str):
        user = _user_or_400(username)
        if not changes.answer_join_request(
            db.session, hub, user, approve, agent=current_user().username
        ):
            return _refused(f"{username} has not asked to join.")
        return _done(hub, f"{username} {'approved' if approve else 'declined'}.")

    return view


bp.add_url_rule(HUB_URL + "requests/<username>/approve", "approve", _answer(True), methods=["POST"])
bp.add_url_rule(
    HUB_URL + "requests/<username>/decline", "decline", _answer(False), methods=["POST"]
)


def _halp_widget(hub, widget_id: int) -> tuple[Widget, dict]:
    widget = _hub_widget(hub, widget_id)
    if widget.plugin != "halp":
        abort(404, "Only a help-wanted widget has calls for help.")
    return widget, get_widget_type("halp").config_of(widget)


@bp.route(HUB_URL + "w/<id:widget_id>/halp")
def help_calls(kind: str, name: str, widget_id: int):
    """Every open call for help of a halp widget; members may mark them resolved."""
    hub = hub_or_404(kind, name)
    widget, config = _halp_widget(hub, widget_id)
    channels = halp.widget_channels(db.session, widget, config["channels"])
    calls = [shown for _message, shown in halp.open_calls(db.session, channels, config["meeting"])]
    return render_template("help_calls.html", hub=hub, widget=widget, calls=calls,
                           channels=channels)  # fmt: skip


@bp.route(HUB_URL + "w/<id:widget_id>/halp/resolve", methods=["POST"])
@hub_action(Action.RESOLVE_HELP)
def resolve_help(hub, widget_id: int):
    widget, config = _halp_widget(hub, widget_id)
    msg_id = _payload().get("msg_id")
    channels = halp.widget_channels(db.session, widget, config["channels"])
    shown = {
        message.msg_id: (message, call)
        for message, call in halp.open_calls(db.session, channels, config["meeting"])
    }
    if not isinstance(msg_id, str) or msg_id not in shown:
        return _refused("That is not an open call for help of this widget.")
    user, (message, call) = current_user(), shown[msg_id]
    channel = call["channel"]
    # A resolution hides the call on every hub: only the team that held the meeting may.
    ran_it = halp.may_resolve(db.session, user.username, message)
    require_help_resolver(user, call["meeting"] or channel, ran_it)
    if not changes.resolve_help_request(db.session, widget, msg_id, channel, user):
        return _refused("Someone marked that call resolved already.")
    return _done(hub, f"{call['who']}'s call for help is marked resolved.")


@bp.app_context_processor
def _editing():
    """What the page templates need to show the controls a user may use."""
    from hubs.authz import allowed

    def may(action: str, hub) -> bool:
        return allowed(current_user(), Action(action), hub)

    return {"may": may, "current_user": current_user}
