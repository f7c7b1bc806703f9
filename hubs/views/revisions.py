"""A hub's history: its revisions newest first, one revision against the hub as it is
now, and the export of its layout. Restoring, importing and restoring the defaults
are changes: their POSTs are in ``forms.py`` and ``api.py``, like the others."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, render_template
from sqlalchemy.orm import defer

from hubs import changes, revisions
from hubs.database import db
from hubs.identity import current_user
from hubs.models import HubRevision
from hubs.permissions import Action, allowed
from hubs.views.edits import Refused, hub_action, revision_of
from hubs.views.hubs import HUB_URL, hub_or_404
from hubs.views.params import page_of

bp = Blueprint("revisions", __name__)

# Revisions a history page lists at once.
REVISIONS_PER_PAGE = 50


@bp.get(HUB_URL + "history/")
@hub_action(Action.READ_HISTORY)
def history_page(hub):
    """One query for the page: its revisions (their states left unread) and the count."""
    query = revisions.revisions_page_query(hub).options(defer(HubRevision.state))
    page = page_of(lambda select: db.session.execute(select).all(), query, REVISIONS_PER_PAGE)
    total = page.rows[0].total if page.rows else 0
    return render_template(
        "history.html",
        hub=hub,
        page=page,
        revisions=[row.HubRevision for row in page.rows],
        total=total,
        keep=current_app.config["HISTORY_KEEP"],
        editing=allowed(current_user(), Action.EDIT_HUB, hub),
    )


@bp.get(HUB_URL + "history/<id:revision_id>/")
@hub_action(Action.READ_HISTORY)
def revision_page(hub, revision_id: int):
    """The revision against the hub as it is now: what restoring it would change."""
    try:
        revision = revision_of(hub, revision_id)
    except Refused as refused:
        abort(refused.status, refused.message)
    difference = revisions.diff_states(revision.state, changes.hub_state(db.session, hub))
    return render_template(
        "revision.html",
        hub=hub,
        revision=revision,
        difference=difference,
        editing=allowed(current_user(), Action.EDIT_HUB, hub),
    )


@bp.get(HUB_URL + "export")
def export(kind: str, name: str):
    """The layout document of a hub, for ``fedora-hubs import`` or another hub's import.
    It holds what the hub's public JSON shows already: no members, no secrets."""
    hub = hub_or_404(kind, name)
    document = revisions.layout_document(changes.hub_state(db.session, hub))
    response = jsonify(document)
    response.headers["Content-Disposition"] = (
        f'inline; filename="{hub.type.url_prefix}-{hub.name}-layout.json"'
    )
    return response
