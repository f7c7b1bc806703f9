"""The data model: users, hubs, their memberships and widgets."""

from hubs.models.backfill import Backfill
from hubs.models.base import Base, utcnow
from hubs.models.help import ResolvedHelpRequest
from hubs.models.hub import (
    DEFAULT_LEFT_WIDTH,
    MAX_LEFT_WIDTH,
    MIN_LEFT_WIDTH,
    Hub,
    HubType,
    Invitation,
    JoinRequest,
    Membership,
    Role,
)
from hubs.models.message import Message, MessagePackage, MessageUser
from hubs.models.revision import HubRevision
from hubs.models.saved import SavedNotification
from hubs.models.user import User
from hubs.models.widget import Column, Widget

__all__ = [
    "DEFAULT_LEFT_WIDTH",
    "MAX_LEFT_WIDTH",
    "MIN_LEFT_WIDTH",
    "Backfill",
    "Base",
    "Column",
    "Hub",
    "HubRevision",
    "HubType",
    "Invitation",
    "JoinRequest",
    "Membership",
    "Message",
    "MessagePackage",
    "MessageUser",
    "ResolvedHelpRequest",
    "Role",
    "SavedNotification",
    "User",
    "Widget",
    "utcnow",
]
