"""A user's account settings (the language of Hubs' pages): their user only."""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import Blueprint, render_template, request

from hubs.database import db
from hubs.i18n import _, force_locale, languages, locale_name
from hubs.identity import current_user
from hubs.models import Hub
from hubs.permissions import Action, require
from hubs.views.edits import Done, Refused
from hubs.views.forms import form_post
from hubs.views.hubs import hub_or_404

bp = Blueprint("account", __name__)

MINE = "/u/<name>/"


def own_account(view):
    """Load the user hub of the URL; only its user goes on (Action.EDIT_ACCOUNT)."""

    @wraps(view)
    def wrapper(name: str, **kwargs):
        hub = hub_or_404("u", name)
        require(current_user(), Action.EDIT_ACCOUNT, hub)
        return view(hub, **kwargs)

    return wrapper


def account_path(hub: Hub) -> str:
    return f"{hub.url_path}account"


@bp.route(MINE + "account")
@own_account
def account_page(hub: Hub):
    choices = [(code, locale_name(code)) for code in languages()]
    return render_template(
        "account.html", hub=hub, choices=choices, chosen=current_user().locale or ""
    )


def set_language(hub: Hub, value: Any) -> Done:
    """Show Hubs' pages in ``value`` (a locale Hubs has a catalog for), or in the
    browser's language when it is empty."""
    if value is None or value == "":
        chosen = None
    elif isinstance(value, str) and value in languages():
        chosen = value
    else:
        raise Refused(
            _("Hubs is not translated into that language; choose one of: %(codes)s.",
              codes=", ".join(languages())),
            errors={"locale": _("Not one of the languages offered.")},
        )  # fmt: skip
    current_user().locale = chosen
    db.session.commit()
    with force_locale(chosen or request.accept_languages.best_match(languages()) or "en"):
        return Done(_("Language saved."), {"locale": chosen})


@bp.post(MINE + "account/language")
@own_account
@form_post(back=account_path)
def language_form(hub: Hub):
    if "locale" not in request.form:  # not "the browser's language": a form without it
        raise Refused(_("Choose a language (locale)."), errors={"locale": _("is required")})
    return set_language(hub, request.form["locale"])
