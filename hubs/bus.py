"""The Fedora message bus: reading messages with fedmsg.meta, publishing hubs' own.

fedmsg's settings come from its usual places (/etc/fedmsg.d/, ./fedmsg.d/...), or from
the folder named by the FEDMSG_CONFIG_DIR setting.
"""

from __future__ import annotations

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
_config: dict[str, Any] | None = None
_config_dir: str | None = None


def bus_config(config_dir: str | None = None) -> dict[str, Any]:
    """fedmsg's configuration, loaded once per process (and per folder)."""
    global _config, _config_dir
    with _lock:
        if _config is None or config_dir != _config_dir:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pkg_resources, deprecated load_config
                import fedmsg.config

            filenames = sorted(glob.glob(os.path.join(config_dir, "*.py"))) if config_dir else None
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                config = fedmsg.config.load_config(filenames=filenames, invalidate_cache=True)
            config = dict(config)
            config.setdefault("topic_prefix_re", TOPIC_PREFIX_RE)
            _config, _config_dir = config, config_dir
        return _config


_meta_ready = False


def _meta(config: dict[str, Any]):
    global _meta_ready
    import fedmsg.meta

    with _lock:
        if not _meta_ready:
            # fedmsg and its plugins import pkg_resources, which warns about itself.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fedmsg.meta.make_processors(**config)
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
        usernames = meta.msg2usernames(message, processor=processor, **config)
        packages = meta.msg2packages(message, processor=processor, **config)
    except Exception:
        log.debug("fedmsg.meta could not read %r", message.get("msg_id"), exc_info=True)
        return set(), set()
    return {u for u in usernames if isinstance(u, str)}, {p for p in packages if isinstance(p, str)}


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


def _fedmsg_sender(topic: str, fields: dict[str, Any]) -> None:
    import fedmsg

    fedmsg.publish(topic=topic, modname=MODNAME, msg=fields)


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
