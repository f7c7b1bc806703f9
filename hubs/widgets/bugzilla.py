"""Bugzilla: the open bugs of some Fedora packages, from Red Hat Bugzilla."""

import re
from typing import Any

from flask import current_app

from hubs.bus import message_people_and_packages
from hubs.clients.bugzilla import BugzillaClient
from hubs.i18n import _, _l
from hubs.messages import body, topic_suffix
from hubs.widgets import validators
from hubs.widgets.base import Argument, Chrome, hints

TITLE = _l("Bugzilla")
DESCRIPTION = _l(
    "Open bugs of some Fedora packages in Red Hat Bugzilla, most recently changed first."
)
CLIENTS = [BugzillaClient]  # the services it calls

MAX_PACKAGES = 50
# Fedora package names: letters, digits and "-._+" ("gcc-c++", "python3.12", "perl-Moose").
PACKAGE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$")


def package_names(value: Any) -> list[str]:
    """The package names in a text separated by commas or spaces, each once, in order."""
    if value is None:
        return []
    if not isinstance(value, str):
        raise ValueError(_("must be package names separated by commas or spaces"))
    return list(dict.fromkeys(name for name in re.split(r"[\s,]+", value) if name))


def packages_text(value: Any) -> str:
    """Validate package names; store them as "a, b, c"."""
    names = package_names(value)
    if len(names) > MAX_PACKAGES:
        raise ValueError(_("must name at most %(max)d packages", max=MAX_PACKAGES))
    for name in names:
        if not PACKAGE_RE.match(name):
            raise ValueError(_("%(name)s is not a Fedora package name", name=repr(name[:100])))
    return ", ".join(names)


ARGUMENTS = [
    Argument(
        "packages",
        default="",
        validator=packages_text,
        help=_l("Fedora packages whose open bugs to show, separated by commas or spaces."),
        label=_l("Packages"),
    ),
    Argument(
        "limit",
        default=10,
        validator=validators.integer(1, 100),
        help=_l("How many bugs to show."),
        label=_l("Limit"),
    ),
]

template = "bugzilla.html"
chrome = Chrome(title=_l("Open bugs"))


def data(session, widget, packages: str, limit: int) -> dict:
    names = package_names(packages)
    if not names:
        return {"packages": [], "bugs": [], "total": 0, "search_url": ""}
    config = current_app.config
    client = BugzillaClient.from_config(config)
    products = list(config["BUGZILLA_PRODUCTS"])
    found = client.open_bugs(products, names, limit)
    return {
        "packages": names,
        "total": found.total,
        "search_url": client.search_url(products, names),
        "bugs": [
            {
                "id": bug.id,
                "url": client.bug_url(bug.id),
                "summary": bug.summary,
                "component": bug.component,
                "status": bug.status,
                "priority": bug.priority,
                "severity": bug.severity,
                "last_change": bug.changed.isoformat(),
            }
            for bug in found.bugs
        ],
    }


def _packages(session, widget) -> list[str]:
    return package_names((widget.config or {}).get("packages", ""))


def _bug_product(bug: dict) -> str | None:
    """The product of a bug in a message: a name, or {"id", "name"} in newer messages."""
    product = bug.get("product")
    if isinstance(product, dict):
        product = product.get("name")
    return product if isinstance(product, str) else None


def _bug_components(bug: dict) -> set[str]:
    """The components a message's bug is filed against (one name, or a list)."""
    component = bug.get("component")
    names = component if isinstance(component, list) else [component]
    return {name for name in names if isinstance(name, str)}


@hints(categories=["bugzilla"], packages=_packages)
def should_invalidate(message, session, widget) -> bool:
    if not topic_suffix(str(message.get("topic", ""))).startswith("bugzilla.bug."):
        return False
    bug = body(message).get("bug")
    if not isinstance(bug, dict):
        return False
    product = _bug_product(bug)
    if product is not None and product not in current_app.config["BUGZILLA_PRODUCTS"]:
        return False
    _usernames, packages = message_people_and_packages(message)
    return bool((packages | _bug_components(bug)) & set(_packages(session, widget)))
