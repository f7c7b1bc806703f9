"""Fixtures shared by the widgets' tests."""

import pytest

from hubs.models import HubType, Role
from tests import factories


@pytest.fixture
def ralph_hub(session):
    """ralph and his user hub, which he owns."""
    user = factories.user(session, "ralph")
    hub = factories.hub(session, "ralph", HubType.user)
    factories.role(session, hub, user, Role.owner)
    return hub
