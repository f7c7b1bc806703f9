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
from hubs.i18n import _, _l, ngettext
from hubs.identity import current_user
from hubs.meta import role_name
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
        message = _(
            "%(field)s must be one of: %(choices)s", field=kind.__name__.lower(), choices=choices
        )
        raise Refused(message) from None


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
        message = (
            _("There is no user named %(name)s.", name=repr(name))
            if name
            else _("Enter an account name.")
        )
        raise Refused(message, {"username": message})
    return (exact or matches)[0]


def hub_widget(hub: Hub, widget_id: int) -> Widget:
    """The widget ``widget_id`` of ``hub``: a 404 for another hub's."""
    return widget_or_404(hub.type.url_prefix, hub.name, widget_id)


def widget_type(plugin: Any) -> WidgetType:
    found = get_widget_type(str(plugin or ""))
    if found is None:
        raise Refused(_("There is no widget named %(name)s.", name=repr(plugin)))
    return found


def type_of(widget: Widget) -> WidgetType:
    found = get_widget_type(widget.plugin)
    if found is None:
        raise Refused(_("This kind of widget is no longer available."))
    return found


# -- settings and widgets (owners) -------------------------------------------------------


def save_settings(hub: Hub, raw: Mapping[str, Any]) -> Done:
    try:
        changed = changes.update_hub(db.session, hub, dict(raw), agent=current_user().username)
    except InvalidConfig as error:
        raise Refused(_("Invalid hub settings."), error.errors) from None
    return Done(_("Settings saved.") if changed else _("Nothing changed."), {"changed": changed})


def add_widget(
    hub: Hub, kind: WidgetType, where: Column, raw: Any, title: Any = changes.UNCHANGED
) -> Done:
    try:
        widget = changes.create_widget(
            db.session, hub, kind.name, raw, current_user().username, column=where, raw_title=title
        )
    except InvalidConfig as error:
        raise Refused(_("Invalid widget config."), error.errors) from None
    except changes.ChangeRefused as error:
        raise Refused(str(error)) from None
    return Done(_("%(widget)s added.", widget=kind.title), {"widget_id": widget.id})


def save_widget(widget: Widget, raw: Any, title: Any = changes.UNCHANGED) -> Done:
    """A new config and title (either changes.UNCHANGED: kept)."""
    try:
        changed = changes.update_widget_config(
            db.session, widget, raw, agent=current_user().username, raw_title=title
        )
    except InvalidConfig as error:
        raise Refused(_("Invalid widget config."), error.errors) from None
    return Done(_("Widget saved.") if changed else _("Nothing changed."), {"changed": changed})


def move_widget(widget: Widget, data: Mapping[str, Any]) -> Done:
    """To ``data``'s column and position; either left out: where it is now."""
    to = column(data.get("column", widget.column.value))
    try:
        index = validators.integer(0, MAX_POSITION)(data.get("position", widget.position))
    except ValueError as error:
        reason = str(error)
        raise Refused(
            _("%(field)s %(reason)s", field="position", reason=reason), {"position": reason}
        ) from None
    was = widget.position
    if changes.move_widget(db.session, widget, to, index, agent=current_user().username):
        return Done(_("Widget moved."))
    if index > was:
        return Done(_("Already at the bottom."))
    return Done(_("Already at the top.") if index == 0 else _("Nothing changed."))


def delete_widget(widget: Widget) -> Done:
    changes.delete_widget(db.session, widget, agent=current_user().username)
    return Done(_("Widget removed."))


# -- history: restore, import, defaults (owners) -------------------------------------------


def revision_of(hub: Hub, revision_id: int) -> HubRevision:
    """The revision ``revision_id`` of ``hub``: a 404 for another hub's or a forgotten one."""
    revision = db.session.get(HubRevision, revision_id)
    if revision is None or revision.hub_id != hub.id:
        raise Refused(
            _("%(hub)s has no revision %(id)s.", hub=hub.name, id=revision_id), status=404
        )
    return revision


def restore(hub: Hub, revision_id: int) -> Done:
    revision = revision_of(hub, revision_id)
    try:
        done = changes.restore_revision(db.session, hub, revision, current_user().username)
    except InvalidConfig as error:
        message = ngettext(
            "This revision can't be restored: %(num)d problem; nothing was changed.",
            "This revision can't be restored: %(num)d problems; nothing was changed.",
            len(error.errors),
        )
        raise Refused(message, error.errors) from None
    if not done:
        return Done(_("Nothing changed: the hub is like this revision already."))
    return Done(_("Revision %(id)s restored.", id=revision.id))


def import_layout(hub: Hub, document: Any) -> Done:
    """A layout document (as the export gives), every problem listed when refused."""
    limit = current_app.config["MAX_WIDGETS_PER_HUB"]
    try:
        layout = revisions.read_layout(document, hub.type.value, limit)
        done = changes.import_layout(db.session, hub, layout, current_user().username)
    except InvalidConfig as error:
        message = ngettext(
            "Invalid layout document: %(num)d problem; nothing was changed.",
            "Invalid layout document: %(num)d problems; nothing was changed.",
            len(error.errors),
        )
        raise Refused(message, error.errors) from None
    if done:
        return Done(_("Layout imported."))
    return Done(_("Nothing changed: the hub has this layout already."))


def restore_defaults(hub: Hub) -> Done:
    if changes.restore_defaults(db.session, hub, current_user().username):
        return Done(_("Default widgets restored."))
    return Done(_("Nothing changed: the hub has the default widgets already."))


# -- following, joining, leaving -------------------------------------------------------

_FOLLOWED = {Role.subscriber: _l("Subscribed."), Role.stargazer: _l("Starred.")}


def follow(hub: Hub, as_role: Role, on: bool) -> Done:
    """Subscribe or star (``on``), or stop: ``as_role`` is subscriber or stargazer."""
    user = current_user()
    if on and hub.type is HubType.user and hub.name == user.username:
        raise Refused(_("This is your own hub: there is no need to subscribe to or star it."))
    if on:
        changes.set_role(db.session, hub, user, as_role, agent=user.username)
        return Done(str(_FOLLOWED[as_role]))
    changes.remove_role(db.session, hub, user, as_role, agent=user.username)
    return Done(_("Done."))


def join(hub: Hub) -> Done:
    asked = changes.request_to_join(db.session, hub, current_user())
    return Done(_("Request sent to the owners.") if asked else _("You asked already."))


def leave(hub: Hub) -> Done:
    user = current_user()
    try:
        for held in (Role.member, Role.owner):
            changes.remove_role(db.session, hub, user, held, agent=user.username)
    except changes.ChangeRefused as error:
        raise Refused(str(error)) from None
    return Done(_("You left %(hub)s.", hub=hub.name))


def answer_invitation(hub: Hub, accept: bool) -> Done:
    offered = changes.answer_invitation(db.session, hub, current_user(), accept)
    if offered is None:
        raise Refused(_("You have no invitation to this hub."))
    if accept:
        return Done(_("You are now %(role)s of %(hub)s.", role=role_name(offered), hub=hub.name))
    return Done(_("You declined to be %(role)s of %(hub)s.", role=role_name(offered), hub=hub.name))


# -- members and requests (owners) -----------------------------------------------------


def add_member(hub: Hub, username: str, as_role: Any) -> Done:
    user, wanted = user_named(username), role(as_role)
    if hub.type is HubType.user and wanted in (Role.owner, Role.member):
        message = _("A user hub has no members besides its user.")
        raise Refused(message, {"role": message})
    agent = current_user()
    if wanted in (Role.subscriber, Role.stargazer) and user.id != agent.id:
        message = _(
            "Only %(name)s may subscribe to or star a hub for themselves.", name=user.username
        )
        raise Refused(message, {"role": message})
    try:
        outcome = changes.invite(db.session, hub, user, wanted, agent=agent.username)
    except changes.ChangeRefused as error:
        raise Refused(str(error)) from None
    if outcome == "invited":
        return Done(
            _(
                "%(name)s is invited to be %(role)s; they are once they accept.",
                name=user.username,
                role=role_name(wanted),
            )
        )
    if outcome == "unchanged":
        return Done(_("%(name)s is %(role)s already.", name=user.username, role=role_name(wanted)))
    return Done(_("%(name)s is now %(role)s.", name=user.username, role=role_name(wanted)))


def remove_member(hub: Hub, username: str, as_role: Any) -> Done:
    user, held = user_named(username), role(as_role)
    try:
        changes.remove_role(db.session, hub, user, held, agent=current_user().username)
    except changes.ChangeRefused as error:
        raise Refused(str(error)) from None
    return Done(_("%(name)s is no longer %(role)s.", name=user.username, role=role_name(held)))


def answer_request(hub: Hub, username: str, approve: bool) -> Done:
    user = user_named(username)
    if not changes.answer_join_request(
        db.session, hub, user, approve, agent=current_user().username
    ):
        raise Refused(_("%(name)s has not asked to join.", name=user.username))
    if approve:
        return Done(_("%(name)s approved.", name=user.username))
    return Done(_("%(name)s declined.", name=user.username))
