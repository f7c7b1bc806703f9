"""The HTML forms that change a hub: settings, widgets, memberships and join requests.

Each form page is a GET; each form posts to a POST view here (or, for calls for help
and saved notifications, in ``views/help_calls.py`` and ``views/my_stream.py``, with
the same ``form_post``), which checks ``hubs.permissions`` (``hub_action``), reads
``request.form`` and calls the change in ``hubs.views.edits``.
A change that goes through redirects back with a flash message; a config that fails its
validators gets the form again with the reason of each field; anything else refused, an
error page. Scripts use the JSON API instead (``hubs.views.api``, the same paths under
``/api``): a JSON body posted here is refused with a 415 that says so.

CSRF is checked by Flask-WTF for the whole app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import wraps
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from hubs import changes
from hubs.database import db
from hubs.i18n import _
from hubs.models import Hub, Invitation, JoinRequest, Role
from hubs.permissions import Action
from hubs.views import edits
from hubs.views.edits import Done, Refused, hub_action
from hubs.views.hubs import HUB_URL
from hubs.views.login import local_path
from hubs.widgets import get_widget_type, registry, widget_label
from hubs.widgets.base import TITLE, Argument

bp = Blueprint("edit", __name__)


# -- from posted fields to the raw values validators take, and back ---------------------


def links_to_text(links: Any) -> str:
    """Links as their text area shows them (as typed, when they were refused)."""
    if isinstance(links, str):
        return links
    if not isinstance(links, list):
        return ""
    return "\n".join(f"{link.get('title', '')} | {link.get('url', '')}" for link in links)


def raw_from_form(arguments: Iterable[Argument], form: Mapping[str, str]) -> dict[str, Any]:
    """The values a form posted, shaped for the arguments' validators (which take a
    list of links as its text, the JSON API's edit dialog sending it so too)."""
    raw: dict[str, Any] = {}
    for argument in arguments:
        if argument.control == "checkbox":
            raw[argument.name] = argument.name in form
        elif argument.name in form:
            raw[argument.name] = form[argument.name]
    return raw


def form_value(argument: Argument, value: Any) -> Any:
    """A value as its form control shows it."""
    if argument.control == "links":
        return links_to_text(value)
    if isinstance(value, list):  # e.g. chat rooms, edited as one line
        return " ".join(str(item) for item in value)
    if value is None:
        return ""
    return value


def form_post(view: Callable | None = None, *, back: Callable[[Hub], str] | None = None):
    """A POST view taking a form: its :class:`Done` redirects to the form's ``next`` (or
    ``back(hub)``, the hub's page by default) with a flash message; its :class:`Refused`
    is an error page. A view may also return a page itself (the form again)."""

    def decorate(view: Callable):
        @wraps(view)
        def wrapper(hub: Hub, **kwargs):
            if request.is_json:
                abort(
                    415,
                    _(
                        "This address takes a form; send JSON to %(path)s.",
                        path="/api" + request.path,
                    ),
                )
            try:
                outcome = view(hub, **kwargs)
            except Refused as refused:
                db.session.rollback()
                abort(refused.status, refused.message)
            if not isinstance(outcome, Done):
                return outcome
            flash(outcome.message, "success")
            fallback = back(hub) if back else hub.url_path
            return redirect(local_path(request.form.get("next") or fallback))

        return wrapper

    return decorate(view) if view is not None else decorate


def _confirm_page(hub, question, consequence, action, button, fields=None, back=None):
    """One more question before a change that cannot be undone: its POST form."""
    return render_template(
        "confirm.html",
        hub=hub,
        question=question,
        consequence=consequence,
        action=action,
        button=button,
        fields=fields or {},
        back=back or hub.url_path,
    )


# -- hub settings ----------------------------------------------------------------------


def _settings_page(hub, values, errors, status=200):
    """The settings form, each value as its control shows it (no avatar: an empty field)."""
    shown = {a.name: form_value(a, values.get(a.name, a.default)) for a in changes.HUB_SETTINGS}
    page = render_template(
        "edit_settings.html", hub=hub, arguments=changes.HUB_SETTINGS, values=shown, errors=errors
    )
    return page, status


@bp.get(HUB_URL + "edit/settings")
@hub_action(Action.EDIT_HUB)
def settings_form(hub):
    return _settings_page(hub, changes.hub_settings(hub), errors={})


@bp.post(HUB_URL + "settings")
@hub_action(Action.EDIT_HUB)
@form_post
def update_settings(hub):
    raw = raw_from_form(changes.HUB_SETTINGS, request.form)
    try:
        return edits.save_settings(hub, raw)
    except Refused as refused:
        if not refused.errors:
            raise
        db.session.rollback()
        return _settings_page(hub, {**changes.hub_settings(hub), **raw}, refused.errors, 400)


# -- widgets ---------------------------------------------------------------------------


def _config_page(hub, widget_type, values, errors, widget=None, column="left", status=200):
    """The form adding a widget of ``widget_type`` (none: first choose one) or configuring
    ``widget``: its title, then one field per argument."""
    page = render_template(
        "edit_widget.html",
        hub=hub,
        widget=widget,
        widget_type=widget_type,
        widget_types=sorted(
            (t for t in registry.values() if t.fits(hub.type.value)), key=lambda t: t.title
        ),
        values={
            a.name: form_value(a, values.get(a.name, a.default))
            for a in (TITLE, *widget_type.arguments)
        }
        if widget_type
        else {},
        title_argument=TITLE,
        errors=errors,
        column=column,
    )
    return page, status


@bp.get(HUB_URL + "edit/widgets/new")
@hub_action(Action.EDIT_HUB)
def new_widget_form(hub):
    widget_type = get_widget_type(request.args.get("plugin", ""))
    if widget_type is not None and not widget_type.fits(hub.type.value):
        abort(400, widget_type.fit_for)
    try:  # the column the form will post: refused now, not once filled in
        where = edits.column(request.args.get("column"))
    except Refused as refused:
        abort(400, refused.message)
    return _config_page(hub, widget_type, {}, {}, column=where.value)


@bp.post(HUB_URL + "widgets")
@hub_action(Action.EDIT_HUB)
@form_post
def create_widget(hub):
    kind = edits.widget_type(request.form.get("plugin"))
    where = edits.column(request.form.get("column"))
    raw = raw_from_form(kind.arguments, request.form)
    title = request.form.get(TITLE.name, changes.UNCHANGED)
    try:
        return edits.add_widget(hub, kind, where, raw, title)
    except Refused as refused:
        if not refused.errors:
            raise
        db.session.rollback()
        typed = {**raw, TITLE.name: request.form.get(TITLE.name)}
        return _config_page(hub, kind, typed, refused.errors, column=where.value, status=400)


@bp.get(HUB_URL + "w/<id:widget_id>/edit")
@hub_action(Action.EDIT_HUB)
def edit_widget_form(hub, widget_id: int):
    widget = edits.hub_widget(hub, widget_id)
    widget_type = get_widget_type(widget.plugin)
    if widget_type is None:
        abort(404, _("This kind of widget is no longer available."))
    values = {**widget_type.config_of(widget), TITLE.name: widget.title}
    return _config_page(hub, widget_type, values, {}, widget=widget)


@bp.post(HUB_URL + "w/<id:widget_id>/config")
@hub_action(Action.EDIT_HUB)
@form_post
def update_widget_config(hub, widget_id: int):
    widget = edits.hub_widget(hub, widget_id)
    kind = edits.type_of(widget)
    raw = raw_from_form(kind.arguments, request.form)
    title = request.form.get(TITLE.name, changes.UNCHANGED)
    try:
        return edits.save_widget(widget, raw, title)
    except Refused as refused:
        if not refused.errors:
            raise
        db.session.rollback()
        typed = {**raw, TITLE.name: request.form.get(TITLE.name, widget.title)}
        return _config_page(hub, kind, typed, refused.errors, widget=widget, status=400)


@bp.post(HUB_URL + "w/<id:widget_id>/move")
@hub_action(Action.EDIT_HUB)
@form_post
def move_widget(hub, widget_id: int):
    return edits.move_widget(edits.hub_widget(hub, widget_id), request.form)


@bp.get(HUB_URL + "w/<id:widget_id>/remove")
@hub_action(Action.EDIT_HUB)
def delete_widget_form(hub, widget_id: int):
    widget = edits.hub_widget(hub, widget_id)
    editing = f"{hub.url_path}?edit=1"
    return _confirm_page(
        hub,
        question=_("Remove the %(widget)s widget?", widget=widget_label(widget)),
        consequence=_(
            "Its settings (a note's text, a list of links) go with it: this cannot be undone."
        ),
        action=f"{hub.url_path}w/{widget.id}/delete",
        button=_("Remove the widget"),
        fields={"next": editing},
        back=editing,
    )


@bp.post(HUB_URL + "w/<id:widget_id>/delete")
@hub_action(Action.EDIT_HUB)
@form_post
def delete_widget(hub, widget_id: int):
    return edits.delete_widget(edits.hub_widget(hub, widget_id))


# -- history: restore, import, defaults --------------------------------------------------


def history_path(hub: Hub) -> str:
    return url_for("revisions.history_page", kind=hub.type.url_prefix, name=hub.name)


def _listing_problems(view: Callable) -> Callable:
    """A refusal with a reason per field becomes an error page listing each one."""

    @wraps(view)
    def wrapper(hub: Hub, **kwargs):
        try:
            return view(hub, **kwargs)
        except Refused as refused:
            if not refused.errors:
                raise
            listed = "; ".join(f"{where}: {why}" for where, why in refused.errors.items())
            raise Refused(f"{refused.message} {listed}", status=refused.status) from None

    return wrapper


@bp.post(HUB_URL + "history/<id:revision_id>/restore")
@hub_action(Action.EDIT_HUB)
@form_post(back=history_path)
@_listing_problems
def restore(hub, revision_id: int):
    return edits.restore(hub, revision_id)


@bp.post(HUB_URL + "history/defaults")
@hub_action(Action.EDIT_HUB)
@form_post(back=history_path)
def restore_defaults(hub):
    return edits.restore_defaults(hub)


def _import_page(hub, document: str = "", refused: Refused | None = None):
    page = render_template(
        "edit_import.html",
        hub=hub,
        document=document,
        error=refused.message if refused else None,
        errors=refused.errors if refused else {},
    )
    return page, 400 if refused else 200


@bp.get(HUB_URL + "edit/import")
@hub_action(Action.EDIT_HUB)
def import_form(hub):
    return _import_page(hub)


@bp.post(HUB_URL + "import")
@hub_action(Action.EDIT_HUB)
@form_post(back=history_path)
def import_layout(hub):
    """The document pasted in the form, or sent as its file."""
    upload = request.files.get("file")
    text = request.form.get("document", "")
    try:
        if upload is not None and upload.filename:
            text = upload.read().decode("utf-8")
        document = current_app.json.loads(text)  # as the API reads bodies: deep nesting refused
    except ValueError as error:  # UnicodeDecodeError is one too
        message = _("The document is not JSON: paste the export of a hub, or send its file.")
        return _import_page(hub, text, Refused(message, {"document": str(error)[:200]}))
    try:
        return edits.import_layout(hub, document)
    except Refused as refused:
        if not refused.errors:
            raise
        db.session.rollback()
        return _import_page(hub, text, refused)


# -- following, joining, leaving -------------------------------------------------------


@bp.post(HUB_URL + "subscribe")
@hub_action(Action.FOLLOW)
@form_post
def subscribe(hub):
    return edits.follow(hub, Role.subscriber, on=True)


@bp.post(HUB_URL + "unsubscribe")
@hub_action(Action.FOLLOW)
@form_post
def unsubscribe(hub):
    return edits.follow(hub, Role.subscriber, on=False)


@bp.post(HUB_URL + "star")
@hub_action(Action.FOLLOW)
@form_post
def star(hub):
    return edits.follow(hub, Role.stargazer, on=True)


@bp.post(HUB_URL + "unstar")
@hub_action(Action.FOLLOW)
@form_post
def unstar(hub):
    return edits.follow(hub, Role.stargazer, on=False)


@bp.post(HUB_URL + "join")
@hub_action(Action.JOIN)
@form_post
def join(hub):
    return edits.join(hub)


@bp.post(HUB_URL + "leave")
@hub_action(Action.LEAVE)
@form_post
def leave(hub):
    return edits.leave(hub)


@bp.post(HUB_URL + "invitation/accept")
@hub_action(Action.ANSWER_INVITATION)
@form_post
def accept_invitation(hub):
    return edits.answer_invitation(hub, accept=True)


@bp.post(HUB_URL + "invitation/decline")
@hub_action(Action.ANSWER_INVITATION)
@form_post
def decline_invitation(hub):
    return edits.answer_invitation(hub, accept=False)


# -- members and requests (owners) -----------------------------------------------------


def _members_page(hub, refused: Refused | None = None, values=None):
    """The members page; after a refused change, again with its reason (beside the
    field it concerns, else above the form) and what was typed, as a 400."""
    requests = db.session.scalars(
        sa.select(JoinRequest).where(JoinRequest.hub_id == hub.id).order_by(JoinRequest.created)
    ).all()
    invitations = db.session.scalars(
        sa.select(Invitation).where(Invitation.hub_id == hub.id).order_by(Invitation.created)
    ).all()
    page = render_template(
        "edit_members.html",
        hub=hub,
        requests=requests,
        invitations=invitations,
        roles=list(Role),
        errors=refused.errors if refused else {},
        error=refused.message if refused and not refused.errors else None,
        values=values or {"role": Role.member.value},
    )
    return page, 400 if refused else 200


def members_form(view: Callable) -> Callable:
    """A POST of the members page: refused, the page again with the reason."""

    @wraps(view)
    def wrapper(hub: Hub, **kwargs):
        try:
            return view(hub, **kwargs)
        except Refused as refused:
            if refused.status != 400:
                raise
            db.session.rollback()
            typed = {name: request.form.get(name, "") for name in ("username", "role")}
            return _members_page(hub, refused, typed if "username" in request.form else None)

    return wrapper


@bp.get(HUB_URL + "edit/members")
@hub_action(Action.MANAGE_MEMBERS)
def members_page(hub):
    return _members_page(hub)


@bp.post(HUB_URL + "members")
@hub_action(Action.MANAGE_MEMBERS)
@form_post
@members_form
def add_member(hub):
    form = request.form
    return edits.add_member(hub, form.get("username", ""), form.get("role", "member"))


@bp.get(HUB_URL + "edit/members/<username>/remove")
@hub_action(Action.MANAGE_MEMBERS)
def remove_member_form(hub, username: str):
    try:
        user, held = edits.user_named(username), edits.role(request.args.get("role"))
    except Refused as refused:
        abort(refused.status, refused.message)
    members = url_for("edit.members_page", kind=hub.type.url_prefix, name=hub.name)
    return _confirm_page(
        hub,
        question=_(
            "Remove %(name)s as %(role)s of %(hub)s?",
            name=user.username,
            role=edits.role_name(held),
            hub=hub.name,
        ),
        consequence=_(
            "They would have to be invited again to be %(role)s.", role=edits.role_name(held)
        ),
        action=f"{hub.url_path}members/{user.username}/remove",
        button=_("Remove %(name)s", name=user.username),
        fields={"role": held.value, "next": members},
        back=members,
    )


@bp.post(HUB_URL + "members/<username>/remove")
@hub_action(Action.MANAGE_MEMBERS)
@form_post
@members_form
def remove_member(hub, username: str):
    return edits.remove_member(hub, username, request.form.get("role", "member"))


@bp.post(HUB_URL + "requests/<username>/approve")
@hub_action(Action.MANAGE_MEMBERS)
@form_post
@members_form
def approve(hub, username: str):
    return edits.answer_request(hub, username, approve=True)


@bp.post(HUB_URL + "requests/<username>/decline")
@hub_action(Action.MANAGE_MEMBERS)
@form_post
@members_form
def decline(hub, username: str):
    return edits.answer_request(hub, username, approve=False)
