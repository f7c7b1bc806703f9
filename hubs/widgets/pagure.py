"""Pagure: the open issues and pull requests of a project on pagure.io, newest first."""

import re
from typing import Any

from flask import current_app

from hubs.clients.pagure import PagureClient
from hubs.i18n import _, _l
from hubs.messages import body, topic_suffix
from hubs.widgets import validators
from hubs.widgets._open_items import listing, shows_issues, shows_pull_requests, what_to_show
from hubs.widgets.base import Argument, Chrome, hints

TITLE = _l("Pagure")
DESCRIPTION = _l("Open issues and pull requests of a project on pagure.io, newest first.")
CLIENTS = [PagureClient]  # the services it calls

# A project's name, or its namespace: pagure's own rule for names, at most 100 characters.
NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,99}$")


def project_path(value: Any) -> str:
    """A pagure project: "name" or "namespace/name" ("" when unset)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(_("must be a project name"))
    value = value.strip().strip("/")
    if not value:
        return ""
    parts = value.split("/")
    if len(parts) > 2 or not all(NAME_RE.match(part) for part in parts):
        raise ValueError(
            _(
                'must be a project like "fedora-infrastructure" or "namespace/name" '
                'like "fedora-infra/ansible"'
            )
        )
    return value


ARGUMENTS = [
    Argument(
        "project",
        default="",
        validator=project_path,
        help=_l('The project on pagure.io: "fedora-infrastructure", or "namespace/name".'),
        label=_l("Project"),
    ),
    Argument(
        "what",
        default="both",
        validator=what_to_show,
        help=_l('What to list: "issues", "pull-requests" or "both".'),
        label=_l("What"),
    ),
    Argument(
        "limit",
        default=5,
        validator=validators.integer(1, 100),
        help=_l("How many issues (and how many pull requests) to show."),
        label=_l("Limit"),
    ),
]

template = "pagure.html"
chrome = Chrome(title=_l("Pagure"))


def data(session, widget, project: str, what: str, limit: int) -> dict:
    if not project:
        return {"project": "", "issues": None, "pull_requests": None}
    config = current_app.config
    client = PagureClient.from_config(config)
    issues = pull_requests = None
    if shows_issues(what):
        issues = listing(client.open_issues(project, limit), client.issues_url(project))
    if shows_pull_requests(what):
        found = client.open_pull_requests(project, limit)
        pull_requests = listing(found, client.pull_requests_url(project))
    return {
        "project": project,
        "project_url": client.project_url(project),
        "issues": issues,
        "pull_requests": pull_requests,
    }


ISSUE_TOPICS = frozenset(
    f"pagure.issue.{event}"
    for event in (
        "new",
        "edit",
        "drop",
        "comment.added",
        "comment.edited",
        "tag.added",
        "tag.removed",
        "assigned.added",
        "assigned.reset",
        "dependency.added",
        "dependency.removed",
    )
)
PULL_REQUEST_TOPICS = frozenset(
    [
        *(
            f"pagure.pull-request.{event}"
            for event in (
                "new",
                "closed",
                "reopened",
                "updated",
                "rebased",
                "comment.added",
                "comment.edited",
                "initial_comment.edited",
                "flag.added",
                "flag.updated",
                "tag.added",
                "tag.removed",
            )
        ),
        # Pagure names the assignment of a pull request "request".
        "pagure.request.assigned.added",
        "pagure.request.assigned.reset",
    ]
)


def message_project(message: dict) -> str | None:
    """The full name of the project a pagure message is about: its "project", or the
    project of its pull request (named "pullrequest", "pull_request" or "request")."""
    payload = body(message)
    holders = [payload] + [payload.get(key) for key in ("pullrequest", "pull_request", "request")]
    for holder in holders:
        if isinstance(holder, dict) and isinstance(holder.get("project"), dict):
            return project_fullname(holder["project"])
    return None


def project_fullname(project: dict) -> str | None:
    """A project's "fullname", or, in messages older than that field, the same built from
    its namespace and name (forks live under forks/<owner>/)."""
    fullname = project.get("fullname")
    if isinstance(fullname, str) and fullname:
        return fullname
    name, namespace = project.get("name"), project.get("namespace")
    if not isinstance(name, str) or not name:
        return None
    path = f"{namespace}/{name}" if isinstance(namespace, str) and namespace else name
    if not project.get("parent"):
        return path
    owner = project.get("user")
    owner = owner.get("name") if isinstance(owner, dict) else None
    return f"forks/{owner}/{path}" if isinstance(owner, str) and owner else None


@hints(topics=ISSUE_TOPICS | PULL_REQUEST_TOPICS)
def should_invalidate(message, session, widget) -> bool:
    config = widget.config or {}
    project = config.get("project")
    if not project:
        return False
    suffix = topic_suffix(str(message.get("topic", "")))
    what = config.get("what") or "both"
    concerned = (suffix in ISSUE_TOPICS and shows_issues(what)) or (
        suffix in PULL_REQUEST_TOPICS and shows_pull_requests(what)
    )
    return concerned and message_project(message) == project
