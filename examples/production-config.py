# Fedora Hubs in production: copy to /etc/hubs/config.py, fill in the secrets, and point
# HUBS_CONFIG at it for gunicorn, fedmsg-hub and hubs-sse (their systemd units do).
# Every setting is described in hubs/default_config.py.

# python -c "import secrets; print(secrets.token_hex(32))"
SECRET_KEY = "replace with a long random string"
SITE_URL = "https://hubs.fedoraproject.org"

DATABASE_URL = "postgresql://hubs@db01.example.org/hubs"
DATABASE_ENGINE_OPTIONS = {"pool_size": 10, "max_overflow": 20}

CACHE_BACKEND = "dogpile.cache.memcached"
CACHE_ARGUMENTS = {
    "url": ["memcached01.example.org:11211", "memcached02.example.org:11211"],
    "dead_retry": 30,
    "socket_timeout": 1,
}

# Cookies over HTTPS only, never to scripts, never on cross-site requests.
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Fedora's identity provider; the client is registered there for this site.
OIDC_ISSUER = "https://id.fedoraproject.org"
OIDC_CLIENT_ID = "hubs"
OIDC_CLIENT_SECRET = "the client secret from the identity provider"

# hubs-sse behind the same reverse proxy (see examples/nginx-hubs.conf).
SSE_URL = "/sse/stream"
SSE_ALLOWED_ORIGINS = ["https://hubs.fedoraproject.org"]
BACKEND_EVENTS_ENDPOINT = "tcp://0.0.0.0:8091"
SSE_BACKEND_ENDPOINTS = ["tcp://backend01.example.org:8091"]

AVATARS = "libravatar"
FASJSON_URL = "https://fasjson.fedoraproject.org/"
FASJSON_AUTH = "gssapi"

# The external widgets reach Fedora's services at their default addresses
# (BADGES_URL, FEDOCAL_URL, BODHI_URL, BUGZILLA_URL, PAGURE_URL, GITHUB_URL). A token
# lifts GitHub's limit of 60 requests an hour (no scope is needed for public repos).
GITHUB_TOKEN = "a GitHub token of the hubs service account"
SERVICE_TIMEOUT = (3.05, 10)
# How long a failed widget (a service down) is shown as such before it is tried again.
CACHE_ERROR_EXPIRATION = 120
