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
                try:
                    config = fedmsg.config.load_config(filenames=filenames, invalidate_cache=True)
                except ValueError:
                    # No fedmsg.d at all (a backend on fedora-messaging only): fedmsg.meta
                    # still reads message bodies, with fedmsg's defaults and no endpoints.
                    log.info("No fedmsg configuration found: fedmsg.meta runs on defaults")
                    config = fedmsg.config.load_config(
                        filenames=filenames or [], invalidate_cache=True, disable_defaults=True
                    )
                    config.setdefault("endpoints", {})
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
    reading = _schema_reading(message)
    if reading is not None:  # a fedora-messaging message its schema package read
        return _names(reading.get("usernames")), _names(reading.get("packages"))
    config = bus_config()
    meta = _meta(config)
    try:
        processor = _processor(meta, message, config)
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


# fedmsg.meta picks a message's processor by its topic alone (each one's handle_msg
# matches its prefix against the topic), trying them in turn: remember the pick.
_processors_by_topic: dict[str, Any] = {}
PROCESSORS_REMEMBERED = 10_000


def _processor(meta, message: dict[str, Any], config: dict[str, Any]):
    topic = message["topic"]
    processor = _processors_by_topic.get(topic) if isinstance(topic, str) else None
    if processor is None:
        processor = meta.msg2processor(message, **config)
        if isinstance(topic, str):
            if len(_processors_by_topic) >= PROCESSORS_REMEMBERED:
                _processors_by_topic.clear()
            _processors_by_topic[topic] = processor
    return processor


def _schema_reading(message: dict[str, Any]) -> dict[str, Any] | None:
    reading = message.get("fedora_messaging") if isinstance(message, dict) else None
    return reading if isinstance(reading, dict) and "schema" in reading else None


def _names(values: Any) -> set[str]:
    return {value for value in values or () if isinstance(value, str)}


def conglomerate(messages: list[dict[str, Any]], subject: str) -> list[dict[str, Any]]:
    """fedmsg.meta's grouping of related messages, as seen by ``subject``."""
    config = bus_config()
    return _meta(config).conglomerate(messages, subject=subject, **config)


def render(message: dict[str, Any]) -> dict[str, Any]:
    """What a person sees of a message: subtitle, link, icons. A fedora-messaging
    message is shown as its schema says (its summary), any other by fedmsg.meta."""
    reading = _schema_reading(message)
    if reading is not None:
        from hubs.messages import topic_suffix

        return {
            "title": topic_suffix(str(message.get("topic", ""))),
            "subtitle": reading.get("summary") or "",
            "link": reading.get("url") or "",
            "icon": reading.get("app_icon") or "",
            "secondary_icon": reading.get("agent_avatar") or "",
        }
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
    all bind ports); a lock, since ZeroMQ sockets are not shared between threads. An app
    with other fedmsg settings (another relay) gets a context of its own."""

    def __init__(self) -> None:
        self._context = None
        self._config_dir: str | None = None
        self._lock = threading.Lock()

    def __call__(self, topic: str, fields: dict[str, Any]) -> None:
        from flask import current_app

        config_dir = current_app.config.get("FEDMSG_CONFIG_DIR")
        with self._lock:
            if self._context is not None and config_dir != self._config_dir:
                self._context.destroy()
                self._context = None
            if self._context is None:
                import fedmsg.core

                config = copy.deepcopy(bus_config(config_dir))
                config.update(active=True, name="relay_inbound")
                self._context = fedmsg.core.FedMsgContext(**config)
                self._config_dir = config_dir
            self._context.publish(topic=topic, msg=fields, modname=MODNAME)


_fedmsg_sender = FedmsgSender()
_messaging_sender: Sender | None = None
_sender: Sender | None = None


def set_sender(sender: Sender | None) -> None:
    """Replace how messages are sent (None: back to the BUS setting's)."""
    global _sender
    _sender = sender


def _configured_sender() -> Sender:
    """The sender the app's BUS setting names: "fedmsg" (the default, through
    fedmsg-relay) or "fedora-messaging" (AMQP)."""
    global _messaging_sender
    from flask import current_app

    if current_app.config.get("BUS", "fedmsg") != "fedora-messaging":
        return _fedmsg_sender
    with _lock:
        if _messaging_sender is None:
            from hubs.messaging import MessagingSender

            _messaging_sender = MessagingSender()
    return _messaging_sender


def publish(topic: str, **fields: Any) -> None:
    """Publish hubs' own message ``hubs.<topic>`` with ``fields``.

    A failure to publish is logged, never raised: the change it reports is already saved.
    """
    try:
        (_sender or _configured_sender())(topic, fields)
    except Exception:
        log.exception("Could not publish hubs.%s %r", topic, fields)
