"""The fedmsg-hub plugin: hands every bus message to the Backend.

fedmsg-hub loads it through the ``moksha.consumer`` entry point when
``hubs.consumer.enabled`` is true in fedmsg.d/. Hubs' own settings come from its usual
config (hubs/default_config.py, then $HUBS_CONFIG), and ``hubs.config`` in fedmsg.d/
may override some of them for the daemon.
"""

from __future__ import annotations

import logging

from fedmsg.consumers import FedmsgConsumer

log = logging.getLogger(__name__)


class HubsConsumer(FedmsgConsumer):
    topic = "*"
    config_key = "hubs.consumer.enabled"
    validate_signatures = False

    def __init__(self, hub) -> None:
        super().__init__(hub)
        from hubs.app import create_app
        from hubs.backend.triage import Backend

        overrides = dict(hub.config.get("hubs.config") or {})
        self.backend = Backend(create_app(overrides))
        self.backend.write_stats()  # also tells `fedora-hubs backend-stats` it is up
        log.info("Hubs consumer ready: %d widgets indexed", len(self.backend.index.entries))

    def consume(self, message) -> None:
        # moksha hands {"topic": ..., "body": <the fedmsg message>}.
        body = message.get("body") if isinstance(message, dict) else None
        self.backend.handle(body)

    def stop(self) -> None:
        self.backend.close()
        super().stop()
