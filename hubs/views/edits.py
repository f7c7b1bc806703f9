"""The change requests of a hub, however they come: what each checks beyond
``hubs.permissions``, the change it makes (``hubs.changes``), and the sentence telling how it went.

The HTML forms (``hubs.views.forms``) and the JSON API (``hubs.views.api``) each parse
their request and call one of these: a :class:`Done` becomes a redirect with a flash
message or ``{"ok": true, "message": ...}``; a :class:`Refused` becomes the form again
or an error page, or a JSON error document. Neither knows the rules; these know no
request.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

import sqlalchemy as sa
from flask import current_app

from hubs import changes, revisions
from hubs.database import db
from hubs.identity import current_user
from hubs.models import Column, Hub, HubRevision, HubType, Role, User, Widget
from hubs.permissions import Action, require
from hubs.views.hubs import hub_or_404, widget_or_404
from hubs.widgets import get_widget_type, validators
from hubs.widgets.base import InvalidConfig, WidgetType

# More widgets than a column could hold: a position beyond is a mistake.
MAX_POSITION = 10_000


@dataclass(frozen=True)
class Done:
    """A change went through (or had nothing to do): what to tell the user, and the
    fields a JSON client gets besides."""

    message: str
    fields: dict[str, Any] = field(default_factory=dict)


class Refused(Exception):
    """A request that changes nothing: a 4xx with ``message`` and, for input that fails
    its validators, the reason of each field."""

    def __init__(self, message: str, errors: dict[str, str] | None = None, status: int = 400):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        self.status = status


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


def _choice(kind: type[enum.Enum], value: Any, default: str):
    """``value`` as a member of the enum ``kind``, or refused, naming the choices."""
    try:
        return kind(value or default)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise Refused(f"{kind.__name__.lower()} must be one of: {choices}") from None


def column(value: Any) -> Column:
    return _choice(Column, value, "left")


def role(value: Any) -> Role:
    try:
        return _choice(Role, value, "member")
    except Refused as refused:
        raise Refused(refused.message, {"role": refused.message}) from None


def user_named(username: Any) -> User:
    """The account ``username`` names, spaces around it and letter case aside (Fedora
    account names are lowercase); refused, as the username field's error, when none."""
    name = str(username or "").strip()
    matches = db.session.scalars(
        sa.select(User).where(sa.func.lower(User.username) == name.lower()).limit(2)
    ).all()
    exact = [user for user in matches if user.username == name]
    if not matches or (len(matches) > 1 and not exact):
        message = f"There is no user named {name!r}." if name else "Enter an account name."
        raise Refused(message, {"username": message})
    return (exact or matches)[0]


def hub_widget(hub: Hub, widget_id: int) -> Widget:
    """The widget ``widget_id`` of ``hub``: a 404 for another hub's."""
    return widget_or_404(hub.type.url_prefix, hub.name, widget_id)


def widget_type(plugin: Any) -> WidgetType:
    found = get_widget_type(str(plugin or ""))
    if found is None:
        raise Refused(f"There is no widget named {plugin!r}.")
    return found


def type_of(widget: Widget) -> WidgetType:
    found = get_widget_type(widget.plugin)
    if found is None:
        raise Refused("This kind of widget is no longer available.")
    return found


# -- settings and widgets (owners) -------------------------------------------------------


def save_settings(hub: Hub, raw: Mapping[str, Any]) -> Done:
    try:
        changed = changes.update_hub(db.session, hub, dict(raw), agent=current_user().username)
    except InvalidConfig as error:
        raise Refused("Invalid hub settings.", error.errors) from None
    return Done("Settings saved." if changed else "Nothing changed.", {"changed": changed})


def add_widget(
    hub: Hub, kind: WidgetType, where: Column, raw: Any, title: Any = changes.UNCHANGED
) -> Done:
    try:
        widget = changes.create_widget(
            db.session, hub, kind.name, raw, current_user().username, column=where, raw_title=title
        )
    except InvalidConfig as error:
        raise Refused("Invalid widget config.", error.errors) from None
    except changes.ChangeRefused as error:
        raise Refused(str(error)) from None
    return Done(f"{kind.title} added.", {"widget_id": widget.id})


def save_widget(widget: Widget, raw: Any, title: Any = changes.UNCHANGED) -> Done:
    """A new config and title (either changes.UNCHANGED: kept)."""
    try:
        changed = changes.update_widget_config(
            db.session, widget, raw, agent=current_user().username, raw_title=title
        )
    except InvalidConfig as error:
        raise Refused("Invalid widget config.", error.errors) from None
    return Done("Widget saved." if changed else "Nothing changed.", {"changed": changed})


def move_widget(widget: Widget, data: Mapping[str, Any]) -> Done:
    """To ``data``'s column and position; either left out: where it is now."""
    to = column(data.get("column", widget.column.value))
    try:
        index = validators.integer(0, MAX_POSITION)(data.get("position", widget.position))
    except ValueError as error:
        raise Refused(f"position {error}", {"position": str(error)}) from None
    was = widget.position
    if changes.move_widget(db.session, widget, to, index, agent=current_user().username):
        return Done("Widget moved.")
    if index > was:
        return Done("Already at the bottom.")
    return Done("Already at the top." if index == 0 else "Nothing changed.")


def delete_widget(widget: Widget) -> Done:
    changes.delete_widget(db.session, widget, agent=current_user().username)
    return Done("Widget removed.")


# -- history: restore, import, defaults (owners) -------------------------------------------


def revision_of(hub: Hub, revision_id: int) -> HubRevision:
    """The revision ``revision_id`` of ``hub``: a 404 for another hub's or a forgotten one."""
    revision = db.session.get(HubRevision, revision_id)
    if revision is None or revision.hub_id != hub.id:
        raise Refused(f"{hub.name} has no revision {revision_id}.", status=404)
    return revision


def _problems(error: InvalidConfig) -> str:
    count = len(error.errors)
    return f"{count} problem{'s' if count != 1 else ''}; nothing was changed."


def restore(hub: Hub, revision_id: int) -> Done:
    revision = revision_of(hub, revision_id)
    try:
        done = changes.restore_revision(db.session, hub, revision, current_user().username)
    except InvalidConfig as error:
        raise Refused(
            f"This revision can't be restored: {_problems(error)}", error.errors
        ) from None
    if not done:
        return Done("Nothing changed: the hub is like this revision already.")
    return Done(f"Revision {revision.id} restored.")


def import_layout(hub: Hub, document: Any) -> Done:
    """A layout document (as the export gives), every problem listed when refused."""
    limit = current_app.config["MAX_WIDGETS_PER_HUB"]
    try:
        layout = revisions.read_layout(document, hub.type.value, limit)
        done = changes.import_layout(db.session, hub, layout, current_user().username)
    except InvalidConfig as error:
        raise Refused(f"Invalid layout document: {_problems(error)}", error.errors) from None
    return Done("Layout imported." if done else "Nothing changed: the hub has this layout already.")


def restore_defaults(hub: Hub) -> Done:
    if changes.restore_defaults(db.session, hub, current_user().username):
        return Done("Default widgets restored.")
    return Done("Nothing changed: the hub has the default widgets already.")


# -- following, joining, leaving -------------------------------------------------------

_FOLLOWED = {Role.subscriber: "Subscribed.", Role.stargazer: "Starred."}


def follow(hub: Hub, as_role: Role, on: bool) -> Done:
    """Subscribe or star (``on``), or stop: ``as_role`` is subscriber or stargazer."""
    user = current_user()
    if on and hub.type is HubType.user and hub.name == user.username:
        raise Refused("This is your own hub: there is no need to subscribe to or star it.")
    if on:
        changes.set_role(db.session, hub, user, as_role, agent=user.username)
        return Done(_FOLLOWED[as_role])
    changes.remove_role(db.session, hub, user, as_role, agent=user.username)
    return Done("Done.")


def join(hub: Hub) -> Done:
    asked = changes.request_to_join(db.session, hub, current_user())
    return Done("Request sent to the owners." if asked else "You asked already.")


def leave(hub: Hub) -> Done:
    user = current_user()
    try:
        for held in (Role.member, Role.owner):
            changes.remove_role(db.session, hub, user, held, agent=user.username)
    except changes.ChangeRefused as error:
        raise Refused(str(error)) from None
    return Done(f"You left {hub.name}.")


def answer_invitation(hub: Hub, accept: bool) -> Done:
    offered = changes.answer_invitation(db.session, hub, current_user(), accept)
    if offered is None:
        raise Refused("You have no invitation to this hub.")
    if accept:
        return Done(f"You are now {offered.value} of {hub.name}.")
    return Done(f"You declined to be {offered.value} of {hub.name}.")


# -- members and requests (owners) -----------------------------------------------------


def add_member(hub: Hub, username: str, as_role: Any) -> Done:
    user, wanted = user_named(username), role(as_role)
    if hub.type is HubType.user and wanted in (Role.owner, Role.member):
        message = "A user hub has no members besides its user."
        raise Refused(message, {"role": message})
    agent = current_user()
    if wanted in (Role.subscriber, Role.stargazer) and user.id != agent.id:
        message = f"Only {user.username} may subscribe to or star a hub for themselves."
        raise Refused(message, {"role": message})
    try:
        outcome = changes.invite(db.session, hub, user, wanted, agent=agent.username)
    except changes.ChangeRefused as error:
        raise Refused(str(error)) from None
    if outcome == "invited":
        return Done(f"{user.username} is invited to be {wanted.value}; they are once they accept.")
    if outcome == "unchanged":
        return Done(f"{user.username} is {wanted.value} already.")
    return Done(f"{user.username} is now {wanted.value}.")


def remove_member(hub: Hub, username: str, as_role: Any) -> Done:
    user, held = user_named(username), role(as_role)
    try:
        changes.remove_role(db.session, hub, user, held, agent=current_user().username)
    except changes.ChangeRefused as error:
        raise Refused(str(error)) from None
    return Done(f"{user.username} is no longer {held.value}.")


def answer_request(hub: Hub, username: str, approve: bool) -> Done:
    user = user_named(username)
    if not changes.answer_join_request(
        db.session, hub, user, approve, agent=current_user().username
    ):
        raise Refused(f"{user.username} has not asked to join.")
    return Done(f"{user.username} {'approved' if approve else 'declined'}.")
