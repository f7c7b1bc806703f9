"""The page of a help-wanted widget's open calls for help, and marking one resolved.

What a call is and which are open: ``hubs.help_calls``; who may resolve one:
``hubs.permissions`` (``Action.RESOLVE_HELP`` on the :class:`~hubs.help_calls.HelpCall`).
The form posts here; the JSON API (``hubs.views.api``) calls :func:`resolve` too.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request

from hubs import changes
from hubs.database import db
from hubs.help_calls import HelpCall, open_calls, widget_channels
from hubs.i18n import _
from hubs.identity import current_user
from hubs.models import Hub, Widget
from hubs.permissions import Action, require, resolvable
from hubs.views.edits import Done, Refused, hub_action, hub_widget
from hubs.views.forms import form_post
from hubs.views.hubs import HUB_URL, hub_or_404
from hubs.widgets import get_widget_type

bp = Blueprint("help_calls", __name__)


def _halp_widget(hub: Hub, widget_id: int) -> tuple[Widget, dict[str, Any]]:
    widget = hub_widget(hub, widget_id)
    if widget.plugin != "halp":
        abort(404, _("Only a help-wanted widget has calls for help."))
    return widget, get_widget_type("halp").config_of(widget)


@bp.route(HUB_URL + "w/<id:widget_id>/halp")
def help_calls_page(kind: str, name: str, widget_id: int):
    """Every open call for help of a halp widget, each with a button for those who may
    mark it resolved."""
    hub = hub_or_404(kind, name)
    widget, config = _halp_widget(hub, widget_id)
    channels = widget_channels(db.session, widget, config["channels"])
    calls = open_calls(db.session, widget, config, channels)
    return render_template(
        "help_calls.html",
        hub=hub,
        widget=widget,
        calls=calls,
        resolvable=resolvable(current_user(), calls),
        channels=channels,
    )


def resolve(hub: Hub, widget_id: int, msg_id: Any) -> Done:
    """Mark the open call ``msg_id`` of the widget resolved, which hides it on every hub."""
    widget, config = _halp_widget(hub, widget_id)
    calls: dict[str, HelpCall] = {
        call.msg_id: call for call in open_calls(db.session, widget, config)
    }
    if not isinstance(msg_id, str) or msg_id not in calls:
        raise Refused(_("That is not an open call for help of this widget."))
    user, call = current_user(), calls[msg_id]
    require(user, Action.RESOLVE_HELP, call)
    if not changes.resolve_help_request(db.session, widget, msg_id, call.channel, user):
        raise Refused(_("Someone marked that call resolved already."))
    return Done(_("%(name)s's call for help is marked resolved.", name=call.shown["who"]))


@bp.post(HUB_URL + "w/<id:widget_id>/halp/resolve")
@hub_action(Action.RESOLVE_HELP)
@form_post
def resolve_form(hub: Hub, widget_id: int) -> Done:
    return resolve(hub, widget_id, request.form.get("msg_id"))
