"""Default settings of Fedora Hubs.

Every setting can be overridden by the Python file named by the ``HUBS_CONFIG``
environment variable, then by the dict given to ``create_app(config)``.
"""

import os

_HERE = os.path.dirname(os.path.abspath(__file__))
# Runtime files (SQLite database, dbm cache) of the embedded default live here.
VAR_DIR = os.environ.get("HUBS_VAR_DIR", os.path.join(os.path.dirname(_HERE), "var"))

# Flask's secret, signs the session cookie (and hubs-sse reads it). None: a random key
# made once in VAR_DIR/secret-key, shared by the processes of this machine; set your
# own where the web app runs on several hosts. A published or empty key is refused.
SECRET_KEY = None

# The most widgets a hub may have: each one is a request to a service when it is cold.
MAX_WIDGETS_PER_HUB = 40

# Revisions kept of each hub (its history page, restore): the newest this many, and
# always its first, so how it began can still be seen and restored.
HISTORY_KEEP = 100

# The largest request body the web app reads, in bytes: a larger one is refused with
# 413 before it is read (the largest form, a hub's description, is far smaller)...
MAX_CONTENT_LENGTH = 1024 * 1024
# ...and the largest field of a form, in bytes.
MAX_FORM_MEMORY_SIZE = 256 * 1024

# SQLAlchemy database URL: SQLite under var/ by default,
# "postgresql://user@host/dbname" in production.
DATABASE_URL = "sqlite:///" + os.path.join(VAR_DIR, "hubs.db")

# Extra keyword arguments for sqlalchemy.create_engine (pool sizes, echo...).
DATABASE_ENGINE_OPTIONS: dict = {}

# Refuse to start when the database schema is not at the latest migration.
DATABASE_CHECK_MIGRATED = True

# dogpile.cache backend holding widget data: "dogpile.cache.dbm" (a file shared by
# every process on this machine) or "dogpile.cache.memcached" (python-memcached).
CACHE_BACKEND = "dogpile.cache.dbm"

# Arguments of that backend. For memcached: {"url": ["127.0.0.1:11211"]}.
CACHE_ARGUMENTS = {"filename": os.path.join(VAR_DIR, "widget-cache.dbm")}

# Seconds a widget's data stays cached. The backend daemon refreshes widgets as bus
# messages arrive, so this only bounds how stale a widget can get if it misses one.
CACHE_EXPIRATION = 24 * 3600

# Seconds a widget whose data() failed shows its error panel before it is tried again.
CACHE_ERROR_EXPIRATION = 60

# Seconds between two "cache unavailable" warnings, so a dead memcached does not
# flood the logs.
CACHE_WARNING_INTERVAL = 60

# Serve Bootstrap from this application rather than a CDN: Hubs must work offline.
BOOTSTRAP_SERVE_LOCAL = True

# Site name shown in the header and page titles.
SITE_NAME = "Fedora Hubs"

# The languages pages are offered in, as codes of hubs/translations/ ("en", "fr"); empty:
# English and every language with a compiled catalog. A reader gets the one chosen on
# their account, else their browser's best, else English (README: "Languages").
LANGUAGES: list[str] = []

# Where avatars come from: "local" draws initials on a colour (works offline, the
# embedded default); "libravatar" uses each account's libravatar (production).
AVATARS = "local"

# Domain of Fedora account email addresses, used for libravatar avatars.
FEDORA_EMAIL_DOMAIN = "fedoraproject.org"

# Base URL of the libravatar service used for avatars.
LIBRAVATAR_URL = "https://seccdn.libravatar.org/avatar/"

# The backend daemon (fedmsg-hub with the hubs consumer).
# Threads rebuilding stale widgets.
BACKEND_WORKERS = 4

# Topics (without their environment prefix) the backend ignores entirely: noisy ones
# no widget shows. A topic starting with one of these is skipped.
BACKEND_JUNK_TOPICS: list[str] = ["buildsys.repo.init", "buildsys.repo.done", "mailman.receive"]

# Seconds between two summary lines of the backend's counters in its log.
BACKEND_SUMMARY_INTERVAL = 60

# A burst of messages has settled once no message came for this many seconds and no
# rebuild is left: then the counters are written for `fedora-hubs backend-stats`.
BACKEND_SETTLE_SECONDS = 0.5

# How long the backend keeps retrying to store a message while the database is
# unavailable (locked, restarting), in seconds, before it counts the message as an error.
BACKEND_RETRY_SECONDS = 300

# A rebuild the widget cache did not take (memcached restarting) is done again after
# this many seconds, then twice as long each time, at most a minute, until it does.
BACKEND_STORE_RETRY_SECONDS = 1.0

# fedora-messaging: the longest a backend waits for a message's rebuilds before it acks
# the message (seconds). Until the ack, a crash has RabbitMQ deliver it again.
BACKEND_ACK_WAIT_SECONDS = 60

# Bus messages larger than this (bytes, as JSON) are counted as invalid, not stored.
MESSAGE_MAX_BYTES = 256 * 1024

# The message store keeps messages this many days...
MESSAGE_RETENTION_DAYS = 90

# ...and, for each user and package, at most this many of their newest messages.
MESSAGE_RETENTION_CAP = 500

# Seconds between two prunings of the message store by the backend.
MESSAGE_PRUNE_INTERVAL = 3600

# History: datagrepper (the HTTP API over Fedora's message archive) fills the store with
# each new person's last BACKFILL_DAYS days (a sign-up, a new team member), so that a hub
# shows its history from the first view; `fedora-hubs backfill` does it for anyone.
# None (or BACKFILL_DAYS = 0) turns it off.
DATAGREPPER_URL: str | None = "https://apps.fedoraproject.org/datagrepper/"
# How many days of history a new person gets (at most MESSAGE_RETENTION_DAYS).
BACKFILL_DAYS = 30
# Connect and read timeouts: a search over a month of a busy packager takes a while.
DATAGREPPER_TIMEOUT = (3.05, 30)
# The least time between two requests to datagrepper, in seconds (a polite client).
DATAGREPPER_MIN_INTERVAL = 0.2
# After a failed backfill (datagrepper unreachable), seconds before it is tried again;
# the wait doubles with each failure in a row, up to an hour.
BACKFILL_RETRY_SECONDS = 60
# How long a runner holds a person's backfill without news (renewed with each page),
# before another one may take it over.
BACKFILL_LEASE_SECONDS = 300
# How often the backend looks for backfills whose retry came due, in seconds.
BACKFILL_POLL_SECONDS = 30

# Folder of fedmsg's settings (None: fedmsg's usual places, ./fedmsg.d/ among them).
FEDMSG_CONFIG_DIR = None

# The site's public address, for links in the messages hubs publishes.
SITE_URL = "http://localhost:5000"

# The only sites pages load pictures from, besides this one (Content-Security-Policy
# img-src): avatars, badges, Fedora's service icons. A picture from elsewhere, in a
# sticky note or as a hub's avatar, is not loaded (it could track its readers).
IMAGE_HOSTS: list[str] = [
    "https://seccdn.libravatar.org",
    "https://apps.fedoraproject.org",
    "https://badges.fedoraproject.org",
    "https://avatars.githubusercontent.com",
    "https://pagure.io",
    "https://src.fedoraproject.org",
]

# Whether the web app publishes its changes on the bus...
FEDMSG_PUBLISH = True
# ...and which bus: "fedmsg" (through fedmsg-relay; the zero-setup default), or
# "fedora-messaging" (AMQP, with the settings of $FEDORA_MESSAGING_CONF).
BUS = "fedmsg"

# The SSE process (hubs-sse): where browsers open their EventSource.
# The URL pages connect to; behind a reverse proxy, e.g. "/sse/stream". None: pages
# are not live (no EventSource is opened).
SSE_URL = "http://localhost:8080/stream"

# Where hubs-sse listens: address...
SSE_HOST = "127.0.0.1"
# ...and port.
SSE_PORT = 8080

# Where the backend publishes rebuilt widgets (it binds; None: only logged)...
BACKEND_EVENTS_ENDPOINT = "tcp://127.0.0.1:8091"
# ...and where every hubs-sse process subscribes (they connect): one per backend.
SSE_BACKEND_ENDPOINTS = ["tcp://127.0.0.1:8091"]
# Several backends on one AMQP queue, started from one config, cannot each bind an
# endpoint: then each hubs-sse binds its own SSE_EVENTS_BIND (e.g. "tcp://127.0.0.1:8092")...
SSE_EVENTS_BIND: str | None = None
# ...and every backend connects to all of them, listed here (when set, it replaces
# BACKEND_EVENTS_ENDPOINT).
BACKEND_EVENTS_CONNECT: list[str] = []

# How often a backend says hello to hubs-sse while nothing else is published (seconds):
# a backend that restarted is known by then, and every open page fetches itself anew
# (what was published on the bus while it was down may be lost). None: never.
BACKEND_HELLO_SECONDS: float | None = 2.0
# hubs-sse tells every page to fetch itself anew at most once in so many seconds (the
# reasons found meanwhile get one more round at the end): K backends restarted one
# after the other make no K waves of page fetches.
SSE_SNAPSHOT_SPACING_SECONDS = 5.0

# Pages on these origins may open streams with their cookies (CORS).
SSE_ALLOWED_ORIGINS = ["http://localhost:5000", "http://127.0.0.1:5000"]

# Events kept per stream for reconnecting browsers (Last-Event-ID)...
SSE_RING_SIZE = 256
# ...for as long as it is watched and this many seconds after its last browser left...
SSE_RING_KEEP_SECONDS = 300
# ...within this many bytes for all streams' events (the least recently watched are
# dropped first; their browsers get a snapshot when they come back).
SSE_RING_BYTES = 32 * 1024 * 1024

# Events waiting for one slow connection before it is dropped.
SSE_QUEUE_SIZE = 64
# Unsent bytes one connection may still hold when its next event comes; more, and it
# is dropped and closed. While a reader lags nothing more is written to it (its events
# wait in its queue), so only an event about this big to a reader not taking it does so.
SSE_WRITE_BUFFER_BYTES = 1024 * 1024
# Seconds between two heap trims (glibc's malloc_trim) after streams end: without them
# the memory slow readers held stays with the process. 0: after every stream.
SSE_MEMORY_TRIM_SECONDS = 1.0

# Seconds between two heartbeat comments on an idle stream.
SSE_HEARTBEAT_SECONDS = 15

# Base reconnection delay told to browsers, in ms; each gets up to as much again.
SSE_RETRY_MS = 2000
# Open streams allowed per client address; the next one is answered 429. 0: no limit
# (behind a proxy, where every stream comes from the proxy's address: limit there).
SSE_MAX_CONNECTIONS_PER_CLIENT = 64
# A connection whose request headers have not all arrived by then is closed.
SSE_HEADER_TIMEOUT_SECONDS = 10.0

# Login with OpenID Connect (flask-oidc). Fedora's provider in production
# ("https://id.fedoraproject.org"); `make run` and the tests run oidc-provider-mock here.
OIDC_ISSUER = "http://localhost:9400"
# This site's client at the provider...
OIDC_CLIENT_ID = "hubs"
# ...and its secret.
OIDC_CLIENT_SECRET = "hubs-development-secret"

# The session cookie: never readable by scripts; not sent on cross-site requests.
SESSION_COOKIE_HTTPONLY = True
# SameSite for the session cookie.
SESSION_COOKIE_SAMESITE = "Lax"
# Send the session cookie over HTTPS only: True in production.
SESSION_COOKIE_SECURE = False

# FASJSON (Fedora's account API), read by `fedora-hubs sync-teams`.
FASJSON_URL = "https://fasjson.fedoraproject.org/"
# "gssapi" in production (Kerberos); "none" for an open FASJSON.
FASJSON_AUTH = "none"
# Groups synced as team hubs (None: every group FASJSON lists).
SYNC_TEAMS: list[str] | None = None

# External services: connect and read timeouts, in seconds.
SERVICE_TIMEOUT = (3.05, 10)
# Fedora Badges, for the badges widget.
BADGES_URL = "https://badges.fedoraproject.org/"
# Fedocal, for the meetings widget.
FEDOCAL_URL = "https://apps.fedoraproject.org/calendar/"
# Bodhi, for the updates2stable widget.
BODHI_URL = "https://bodhi.fedoraproject.org/"
# Red Hat Bugzilla (its REST API), for the bugzilla widget.
BUGZILLA_URL = "https://bugzilla.redhat.com/"
# The Bugzilla products whose bugs the bugzilla widget lists.
BUGZILLA_PRODUCTS = ["Fedora", "Fedora EPEL"]
# Pagure, for the pagure widget.
PAGURE_URL = "https://pagure.io/"
# GitHub's REST API, for the github widget.
GITHUB_URL = "https://api.github.com/"
# A GitHub token (no scope needed for public repositories): it raises GitHub's rate
# limit from 60 to 5,000 requests an hour.
GITHUB_TOKEN: str | None = None

# Demo mode, for an offline development site: the external widgets (badges, meetings,
# bugzilla, pagure, github, updates2stable) read recorded answers (hubs/demo/services/)
# instead of Fedora's services, and each of their panels says "Demo data". `make run`
# turns it on with HUBS_DEMO_MODE=1. Every process refuses to start with it on a site
# that is not a development one (SITE_URL and OIDC_ISSUER on this machine).
DEMO_MODE = os.environ.get("HUBS_DEMO_MODE") == "1"
