"""The Fedora message bus: reading messages with fedmsg.meta, publishing hubs' own.

fedmsg's settings come from its usual places (/etc/fedmsg.d/, ./fedmsg.d/...), or from
the folder named by the FEDMSG_CONFIG_DIR setting.
"""

from __future__ import annotations

import copy
import glob
import logging
import os
import threading
import warnings
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

# Fedora's processors match topics of every environment (see the corpus README).
TOPIC_PREFIX_RE = r"^org\.fedoraproject\.(dev|stg|prod)"
MODNAME = "hubs"

_lock = threading.Lock()
_configs: dict[str | None, dict[str, Any]] = {}


def bus_config(config_dir: str | None = None) -> dict[str, Any]:
    """fedmsg's configuration, loaded once per process (and per folder)."""
    with _lock:
        if config_dir not in _configs:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pkg_resources, deprecated load_config
                import fedmsg.config

                filenames = (
                    sorted(glob.glob(os.path.join(config_dir, "*.py"))) if config_dir else None
                )
                config = fedmsg.config.load_config(filenames=filenames, invalidate_cache=True)
            config = copy.deepcopy(dict(config))
            config.setdefault("topic_prefix_re", TOPIC_PREFIX_RE)
            _configs[config_dir] = config
        return _configs[config_dir]


_meta_ready = False


class OneLineLogs(logging.Filter):
    """fedmsg.meta's own logging, made one line per event.

    - Its processors log a full traceback for every message they cannot read (a
      KeyError in a message of an unexpected shape): that becomes one WARNING line
      naming the message and the error, the traceback kept for DEBUG.
    - With no FAS credentials (as everywhere but Fedora's own hosts) every lookup of
      a username warns that there is no FAS cache: that is said once, at INFO.
    """

    FAS_NOTICES = ("No previous fas cache found", "No fas_credentials found", "No previous fasjson")

    def __init__(self) -> None:
        super().__init__()
        self._said: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith(self.FAS_NOTICES):
            if self._said:
                return False
            self._said.add(message)
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg, record.args = (
                "fedmsg.meta: no FAS credentials, so IRC nicks and emails in messages "
                "are not mapped to account names",
                None,
            )
            return True
        if record.name.startswith("fedmsg.meta") and record.exc_info and record.exc_info[1]:
            logger = logging.getLogger(record.name)
            if not logger.isEnabledFor(logging.DEBUG):
                error = record.exc_info[1]
                record.msg = "%s (%s: %s)"
                record.args = (message, type(error).__name__, error)
                record.exc_info = record.exc_text = None
                record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


_one_line_logs = OneLineLogs()


def _meta(config: dict[str, Any]):
    global _meta_ready
    import fedmsg.meta

    with _lock:
        if not _meta_ready:
            # fedmsg and its plugins import pkg_resources, which warns about itself.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fedmsg.meta.make_processors(**config)
            # fedmsg.meta logs as itself; Fedora's processors' FAS lookups as moksha.hub.
            for name in ("fedmsg.meta", "fedmsg.meta.buildsys", "moksha.hub"):
                logging.getLogger(name).addFilter(_one_line_logs)
            _meta_ready = True
    return fedmsg.meta


_last_read = threading.local()


def message_people_and_packages(message: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The usernames and packages fedmsg.meta finds in ``message``; empty sets when the
    message is too malformed for its processor.

    The backend and every widget check ask this of the same message in a row: the last
    answer is kept per thread.
    """
    last = getattr(_last_read, "value", None)
    if last is not None and last[0] is message:
        return last[1]
    result = _read_people_and_packages(message)
    _last_read.value = (message, result)
    return result


def _read_people_and_packages(message: dict[str, Any]) -> tuple[set[str], set[str]]:
    config = bus_config()
    meta = _meta(config)
    try:
        processor = meta.msg2processor(message, **config)
    except Exception:
        log.debug("fedmsg.meta could not read %r", message.get("msg_id"), exc_info=True)
        return set(), set()
    # Apart: a failed account lookup (FAS unreachable) must not lose the packages.
    found = []
    for read in (meta.msg2usernames, meta.msg2packages):
        try:
            names = read(message, processor=processor, **config)
        except Exception:
            log.debug("fedmsg.meta could not read %r", message.get("msg_id"), exc_info=True)
            names = ()
        found.append({name for name in names if isinstance(name, str)})
    return found[0], found[1]


def conglomerate(messages: list[dict[str, Any]], subject: str) -> list[dict[str, Any]]:
    """fedmsg.meta's grouping of related messages, as seen by ``subject``."""
    config = bus_config()
    return _meta(config).conglomerate(messages, subject=subject, **config)


def render(message: dict[str, Any]) -> dict[str, Any]:
    """What a person sees of a message: subtitle, link, icons, usernames."""
    config = bus_config()
    meta = _meta(config)
    processor = meta.msg2processor(message, **config)
    return {
        "title": meta.msg2title(message, processor=processor, **config),
        "subtitle": meta.msg2subtitle(message, processor=processor, **config),
        "link": meta.msg2link(message, processor=processor, **config),
        "icon": meta.msg2icon(message, processor=processor, **config),
        "secondary_icon": meta.msg2secondary_icon(message, processor=processor, **config),
    }


# The one way hubs puts a message on the bus; tests and the app may swap the sender.
Sender = Callable[[str, dict[str, Any]], None]


class FedmsgSender:
    """One fedmsg context per process, connected to fedmsg-relay (web workers cannot
    all bind ports); a lock, since ZeroMQ sockets are not shared between threads."""

    def __init__(self) -> None:
        self._context = None
        self._lock = threading.Lock()

    def __call__(self, topic: str, fields: dict[str, Any]) -> None:
        with self._lock:
            if self._context is None:
                import fedmsg.core
                from flask import current_app

                config = copy.deepcopy(bus_config(current_app.config.get("FEDMSG_CONFIG_DIR")))
                config.update(active=True, name="relay_inbound")
                self._context = fedmsg.core.FedMsgContext(**config)
            self._context.publish(topic=topic, msg=fields, modname=MODNAME)


_fedmsg_sender = FedmsgSender()
_sender: Sender = _fedmsg_sender


def set_sender(sender: Sender | None) -> None:
    """Replace how messages are sent (None: back to fedmsg)."""
    global _sender
    _sender = sender or _fedmsg_sender


def publish(topic: str, **fields: Any) -> None:
    """Publish hubs' own message ``hubs.<topic>`` with ``fields``.

    A failure to publish is logged, never raised: the change it reports is already saved.
    """
    try:
        _sender(topic, fields)
    except Exception:
        log.exception("Could not publish hubs.%s %r", topic, fields)
