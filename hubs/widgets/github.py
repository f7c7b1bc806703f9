"""GitHub: the open pull requests and issues of a GitHub repository, newest first."""

import re
from typing import Any

from flask import current_app

from hubs.clients.github import GitHubClient, is_pull_request
from hubs.i18n import _, _l
from hubs.messages import body, topic_suffix
from hubs.widgets import validators
from hubs.widgets._open_items import listing, shows_issues, shows_pull_requests, what_to_show
from hubs.widgets.base import Argument, Chrome, hints

TITLE = _l("GitHub")
DESCRIPTION = _l("Open pull requests and issues of a GitHub repository, newest first.")
CLIENTS = [GitHubClient]  # the services it calls

# GitHub's rules: owners of 1-39 letters, digits and inner hyphens; names of letters, digits, "-._".
OWNER_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$")
NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


def repository(value: Any) -> str:
    """A GitHub repository: "owner/name" ("" when unset)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(_("must be a repository name"))
    value = value.strip()
    if not value:
        return ""
    owner, _slash, name = value.partition("/")
    if not (OWNER_RE.match(owner) and NAME_RE.match(name)) or name in (".", ".."):
        raise ValueError(
            _('must be a GitHub repository as "owner/name", like "fedora-infra/bodhi"')
        )
    return value


ARGUMENTS = [
    Argument(
        "repo",
        default="",
        validator=repository,
        help=_l('The GitHub repository, as "owner/name": "fedora-infra/bodhi".'),
        label=_l("Repo"),
    ),
    Argument(
        "what",
        default="both",
        validator=what_to_show,
        help=_l('What to list: "pull-requests", "issues" or "both".'),
        label=_l("What"),
    ),
    Argument(
        "limit",
        default=5,
        validator=validators.integer(1, 100),
        help=_l("How many pull requests (and how many issues) to show."),
        label=_l("Limit"),
    ),
]

template = "github.html"
chrome = Chrome(title=_l("GitHub"))


def data(session, widget, repo: str, what: str, limit: int) -> dict:
    if not repo:
        return {"repo": "", "pull_requests": None, "issues": None}
    config = current_app.config
    client = GitHubClient.from_config(config, token=config.get("GITHUB_TOKEN"))
    pull_requests = issues = None
    if shows_pull_requests(what):
        pull_requests = listing(client.open_pull_requests(repo, limit), client.pulls_url(repo))
    if shows_issues(what):
        issues = listing(client.open_issues(repo, limit), client.issues_url(repo))
    return {
        "repo": repo,
        "repo_url": client.repo_url(repo),
        "pull_requests": pull_requests,
        "issues": issues,
    }


# github2fedmsg names its topics after GitHub's webhook events and their actions.
ISSUE_ACTIONS = (
    "opened", "edited", "deleted", "transferred", "closed", "reopened", "assigned",
    "unassigned", "labeled", "unlabeled", "locked", "unlocked", "milestoned", "demilestoned",
    "pinned", "unpinned", "typed", "untyped",
    "comment",  # an issue_comment event: on an issue or on a pull request
)  # fmt: skip
PULL_REQUEST_ACTIONS = (
    "opened", "edited", "closed", "reopened", "assigned", "unassigned", "labeled", "unlabeled",
    "locked", "unlocked", "milestoned", "demilestoned", "synchronize", "ready_for_review",
    "converted_to_draft", "review_requested", "review_request_removed", "auto_merge_enabled",
    "auto_merge_disabled", "enqueued", "dequeued",
)  # fmt: skip
ISSUE_TOPICS = frozenset(f"github.issue.{action}" for action in ISSUE_ACTIONS)
PULL_REQUEST_TOPICS = frozenset(
    [
        *(f"github.pull_request.{action}" for action in PULL_REQUEST_ACTIONS),
        "github.pull_request_review",
        "github.pull_request_review_comment",
        "github.pull_request_review_thread",
    ]
)


def message_repository(message: dict) -> str | None:
    """The "owner/name" of the repository a github2fedmsg message is about."""
    repo = body(message).get("repository")
    full_name = repo.get("full_name") if isinstance(repo, dict) else None
    return full_name if isinstance(full_name, str) else None


def _about(message: dict, suffix: str) -> str | None:
    """What a message is about: "issues", "pull-requests" or None. Comments on pull
    requests come as issue comments, their issue marked as a pull request."""
    if suffix in PULL_REQUEST_TOPICS:
        return "pull-requests"
    if suffix in ISSUE_TOPICS:
        issue = body(message).get("issue")
        return "pull-requests" if isinstance(issue, dict) and is_pull_request(issue) else "issues"
    return None


@hints(topics=ISSUE_TOPICS | PULL_REQUEST_TOPICS)
def should_invalidate(message, session, widget) -> bool:
    config = widget.config or {}
    repo = config.get("repo")
    if not repo:
        return False
    about = _about(message, topic_suffix(str(message.get("topic", ""))))
    what = config.get("what") or "both"
    if about is None or (about == "issues" and not shows_issues(what)):
        return False
    if about == "pull-requests" and not shows_pull_requests(what):
        return False
    # GitHub's names ignore case: "Fedora-Infra/Bodhi" is fedora-infra/bodhi.
    return (message_repository(message) or "").lower() == repo.lower()
