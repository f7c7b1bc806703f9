"""Stats: how many members, subscribers and stargazers the hub has."""

from collections import Counter

from hubs.i18n import _l
from hubs.messages import ROLE_TOPICS, concerns_hub
from hubs.models import Role
from hubs.widgets.base import Chrome, hints

TITLE = _l("Stats")
DESCRIPTION = _l("Member, subscriber and stargazer counts.")
ARGUMENTS: list = []

template = "stats.html"
chrome = Chrome(title=_l("Stats"))


def data(session, widget) -> dict:
    counts = Counter(membership.role for membership in widget.hub.memberships)
    return {
        # Owners are members too.
        "members": counts[Role.owner] + counts[Role.member],
        "subscribers": counts[Role.subscriber],
        "stargazers": counts[Role.stargazer],
    }


@hints(topics=ROLE_TOPICS, own_hub=True)
def should_invalidate(message, session, widget) -> bool:
    return concerns_hub(message, widget.hub_id, *ROLE_TOPICS)
