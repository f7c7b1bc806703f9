"""Where rebuilt widgets go: the SSE processes (a later change), or the log."""

from __future__ import annotations

import logging
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Publisher(Protocol):
    def publish(self, event: dict[str, Any]) -> None:
        """Send one widget event {hub, widget_id, version, data, html} to the browsers."""


class LoggingPublisher:
    """Logs each event; used until an SSE publisher is configured."""

    def publish(self, event: dict[str, Any]) -> None:
        log.debug(
            "widget %s of %s rebuilt (version %s)",
            event["widget_id"],
            event["hub"]["url"],
            event["version"],
        )
