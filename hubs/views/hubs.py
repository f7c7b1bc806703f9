"""Hub pages, their widgets, and their JSON documents."""

from __future__ import annotations

import math
import time

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, jsonify, render_template, request, session
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy.orm import contains_eager

from hubs import changes, page_cache
from hubs.avatars import hub_avatar
from hubs.cache import get_cached, widget_cache
from hubs.database import db
from hubs.entries import latest
from hubs.i18n import _
from hubs.identity import current_user
from hubs.models import (
    Column,
    Hub,
    HubType,
    Membership,
    Role,
    User,
    Widget,
)
from hubs.people import hub_owners, hub_people
from hubs.permissions import Action, allowed, roles_of
from hubs.rendering import UNKNOWN_PLUGIN_ENVELOPE, panel, widget_document
from hubs.views.params import page_cursor
from hubs.widgets import get_widget_type, widget_label

bp = Blueprint("hubs", __name__)

RENDER_MARGIN_SECONDS = 2.0


def render_started() -> str:
    """When a page was read, as its first stream connection's ``since``: the events
    published from then on (a little before, for clocks a little apart)."""
    return f"{time.time() - RENDER_MARGIN_SECONDS:.3f}"


_KINDS = {"u": HubType.user, "t": HubType.team}
HUB_URL = "/<any(u, t):kind>/<name>/"


def _role_count(*roles: Role):
    return (
        sa.select(sa.func.count())
        .where(Membership.hub_id == Hub.id, Membership.role.in_(roles))
        .scalar_subquery()
    )


# One query gives a hub page its hub and counts; owners are members too.
_HUB_WITH_COUNTS = sa.select(
    Hub,
    _role_count(Role.owner, Role.member).label("members"),
    _role_count(Role.subscriber).label("subscribers"),
    _role_count(Role.stargazer).label("stargazers"),
)


def _not_found(kind: str, name: str):
    if _KINDS[kind] is HubType.team:
        abort(404, _("There is no team hub named %(name)s.", name=repr(name)))
    abort(404, _("There is no user hub named %(name)s.", name=repr(name)))


def hub_with_counts_or_404(kind: str, name: str) -> tuple[Hub, dict[str, int]]:
    row = db.session.execute(
        _HUB_WITH_COUNTS.where(Hub.type == _KINDS[kind], Hub.name == name)
    ).one_or_none()
    if row is None:
        _not_found(kind, name)
    hub, members, subscribers, stargazers = row
    return hub, {"members": members, "subscribers": subscribers, "stargazers": stargazers}


def hub_or_404(kind: str, name: str) -> Hub:
    hub = db.session.scalars(
        sa.select(Hub).where(Hub.type == _KINDS[kind], Hub.name == name)
    ).one_or_none()
    if hub is None:
        _not_found(kind, name)
    return hub


def widgets_of(hub: Hub) -> list[Widget]:
    return db.session.scalars(
        sa.select(Widget)
        .where(Widget.hub_id == hub.id)
        .order_by(Widget.column, Widget.position, Widget.id)
    ).all()


def widget_or_404(kind: str, name: str, widget_id: int) -> Widget:
    widget = db.session.scalars(
        sa.select(Widget)
        .join(Widget.hub)
        .options(contains_eager(Widget.hub))
        .where(Widget.id == widget_id, Hub.type == _KINDS[kind], Hub.name == name)
    ).one_or_none()
    if widget is None:
        hub_or_404(kind, name)
        abort(404, _("The hub %(name)s has no widget %(id)s.", name=repr(name), id=widget_id))
    return widget


def _panels(widgets: list[Widget]) -> tuple[dict[Column, list[tuple[Widget, Markup]]], float]:
    """Each widget with its cached panel, or its loading placeholder, by column; and
    until when the panels may be shown as they are (0 when some widget is loading)."""
    types = [get_widget_type(widget.plugin) for widget in widgets]
    keys = [t.cache_key(w) for w, t in zip(widgets, types, strict=True) if t]
    cached = iter(get_cached(keys))
    panels = {Column.left: [], Column.right: []}
    until = math.inf
    for widget, widget_type in zip(widgets, types, strict=True):
        envelope = next(cached) if widget_type else UNKNOWN_PLUGIN_ENVELOPE
        until = min(until, widget_cache.served_until(envelope) if envelope else 0)
        panels[widget.column].append((widget, panel(widget, widget_type, envelope)))
    return panels, until


# A hub page's one query: the hub, its counts and its widgets, one row per widget.
_HUB_PAGE = (
    _HUB_WITH_COUNTS.add_columns(Widget)
    .outerjoin(Widget, Widget.hub_id == Hub.id)
    .where(Hub.type == sa.bindparam("hub_type"), Hub.name == sa.bindparam("hub_name"))
    .order_by(Widget.column, Widget.position, Widget.id)
)


@bp.route(HUB_URL)
def hub_page(kind: str, name: str):
    since = render_started()
    user = current_user()
    path = page_cache.hub_path(kind, name)
    if user is None and not session:  # a visitor: the page every visitor sees
        return page_cache.serve(path, lambda: _render_hub_page(kind, name, None), since)
    if user is not None and not session.get("_flashes"):  # a reader: their own kept page
        edit_mode = request.args.get("edit") == "1"
        return page_cache.serve(
            path,
            lambda: _render_hub_page(kind, name, user, csrf_token=page_cache.marks()[1]),
            since,
            reader=user.username,
            variant="edit" if edit_mode else "",
            csrf_token=generate_csrf,
        )
    html, _until = _render_hub_page(kind, name, user, since)
    return html


def _render_hub_page(
    kind: str, name: str, user: User | None, since: str | None = None, csrf_token: str = ""
) -> tuple[str, float | None]:
    """The hub page as ``user`` sees it, and until when it may be kept (None: not).
    Without ``since``, the page has the mark of the moment it is served; with
    ``csrf_token``, that text stands for the session's token (a kept page's mark)."""
    since = since if since is not None else page_cache.since_mark()
    extra = {"csrf_token": lambda: csrf_token} if csrf_token else {}
    rows = db.session.execute(_HUB_PAGE, {"hub_type": _KINDS[kind], "hub_name": name}).all()
    if not rows:
        _not_found(kind, name)
    hub, members, subscribers, stargazers, _widget = rows[0]
    counts = {"members": members, "subscribers": subscribers, "stargazers": stargazers}
    widgets = [row.Widget for row in rows if row.Widget is not None]
    panels, until = _panels(widgets)
    roles = [role.value for role in roles_of(user, hub)] if user else []
    join_requested, invitation = changes.pending(db.session, hub, user)
    html = render_template(
        "hub.html",
        hub=hub,
        avatar=hub_avatar(hub, 96),
        counts=counts,
        left=panels[Column.left],
        right=panels[Column.right],
        roles=roles,
        editing=allowed(user, Action.EDIT_HUB, hub),
        # ?edit=1: the page opens in edit mode (how it works without JavaScript).
        edit_mode=request.args.get("edit") == "1",
        widget_labels={widget.id: widget_label(widget) for widget in widgets},
        join_requested=join_requested,
        invitation=invitation,
        since=since,
        **extra,
    )
    keep_until = min(until, time.time() + current_app.config["CACHE_EXPIRATION"])
    return html, keep_until if keep_until > time.time() else None


@bp.route(HUB_URL + "json")
def hub_json(kind: str, name: str):
    hub, counts = hub_with_counts_or_404(kind, name)
    return jsonify(
        name=hub.name,
        type=hub.type.value,
        url=hub.url_path,
        summary=hub.summary,
        description=hub.description,
        avatar=hub_avatar(hub, 96),
        left_width=hub.left_width,
        archived=hub.archived,
        created=hub.created.isoformat(),
        last_activity=hub.last_activity.isoformat() if hub.last_activity else None,
        counts=counts,
        owners=hub_owners(db.session, hub.id),
        widgets=[
            {
                "id": widget.id,
                "plugin": widget.plugin,
                "column": widget.column.value,
                "position": widget.position,
                "config": widget.config,
                "url": widget.url_path,
            }
            for widget in widgets_of(hub)
        ],
    )


def _envelope(widget: Widget):
    widget_type = get_widget_type(widget.plugin)
    if widget_type is None:
        return None, UNKNOWN_PLUGIN_ENVELOPE
    return widget_type, widget_type.data(db.session, widget)


@bp.route(HUB_URL + "w/<id:widget_id>/")
def widget_html(kind: str, name: str, widget_id: int):
    widget = widget_or_404(kind, name, widget_id)
    widget_type, envelope = _envelope(widget)
    return panel(widget, widget_type, envelope)


@bp.route(HUB_URL + "w/<id:widget_id>/json")
def widget_json(kind: str, name: str, widget_id: int):
    widget = widget_or_404(kind, name, widget_id)
    widget_type, envelope = _envelope(widget)
    # With its version, as the stream pushes it: a client keeps the newer of the two.
    return jsonify(
        version=envelope.get("version"), **widget_document(widget, widget_type, envelope)
    )


@bp.route(HUB_URL + "w/<id:widget_id>/more")
def feed_more(kind: str, name: str, widget_id: int):
    """The feed's next page, after the entry named by ?before=<time>&id=<id>."""
    widget = widget_or_404(kind, name, widget_id)
    if widget.plugin != "feed":
        abort(404, _("Only an activity feed has more entries."))
    before = page_cursor(_("More"), required=True)
    per_page = get_widget_type("feed").config_of(widget)["per_page"]
    entries, more = latest(db.session, hub_people(db.session, widget.hub), per_page, before)
    return render_template("widgets/feed_more.html", entries=entries, more=more, widget=widget)
