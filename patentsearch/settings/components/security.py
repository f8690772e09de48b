"""Security settings: on by default whenever DEBUG is off (`manage.py check --deploy` is clean).

PATENTSEARCH_HTTPS (default: on unless DEBUG) turns on secure cookies, HSTS and the redirect to
https. Behind a TLS-terminating proxy (docker/compose.yaml runs Caddy) set
DJANGO_SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO so Django knows which requests came in over
https; only do so when the proxy always sets that header. A plain-http setup on one machine
(`make demo` on 127.0.0.1) sets PATENTSEARCH_HTTPS=false.

Without DEBUG a secret key given in DJANGO_SECRET_KEY must be long, varied and not a
placeholder; the app refuses to start otherwise. Without DJANGO_SECRET_KEY a random key is made
once and kept in VAR_DIR (the self-hosted default), the first time it is used.
"""

from django.core.exceptions import ImproperlyConfigured

from patentsearch import secrets
from patentsearch.env import env
from patentsearch.settings.components.paths import VAR_DIR

DEBUG = env.bool("DJANGO_DEBUG", default=False)
_GIVEN_SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
SECRET_KEY = _GIVEN_SECRET_KEY or secrets.kept_secret_key(VAR_DIR)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Values of DJANGO_SECRET_KEY shipped in examples; never accepted.
PLACEHOLDER_SECRET_KEYS = {"change-me-to-a-long-random-string", "change-me", "secret", "build"}
MIN_SECRET_KEY_LENGTH = 50


def check_secret_key(key: str) -> None:
    if key in PLACEHOLDER_SECRET_KEYS or "change-me" in key or key.startswith("django-insecure"):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is a placeholder; set a long random value, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'` (or leave it unset to "
            "have one made and kept in the data folder)."
        )
    if len(key) < MIN_SECRET_KEY_LENGTH or len(set(key)) < 5:
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY is too short or too plain: use at least {MIN_SECRET_KEY_LENGTH} "
            "random characters."
        )


if not DEBUG and _GIVEN_SECRET_KEY:  # a kept key is always a long random one
    check_secret_key(_GIVEN_SECRET_KEY)

HTTPS = env.bool("PATENTSEARCH_HTTPS", default=not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=365 * 24 * 3600) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
_proxy_header = env("DJANGO_SECURE_PROXY_SSL_HEADER", default="")
SECURE_PROXY_SSL_HEADER = (_proxy_header, "https") if _proxy_header else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_ENGINE = "patentsearch.authentication"  # database sessions; a malformed cookie is no session
X_FRAME_OPTIONS = "DENY"

# Request bodies: refused over this size before any of it is read (patentsearch.middleware);
# the proxy enforces the same limit.
PATENTSEARCH_MAX_REQUEST_BYTES = env.int("PATENTSEARCH_MAX_REQUEST_BYTES", default=60 * 1024 * 1024)
# Searches per user (DRF rate syntax); over it: 429.
PATENTSEARCH_SEARCH_RATE = env("PATENTSEARCH_SEARCH_RATE", default="60/min")

# Login: django-axes locks a username from a client address out after repeated failures.
AXES_FAILURE_LIMIT = env.int("PATENTSEARCH_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("PATENTSEARCH_LOGIN_COOLOFF_HOURS", default=0.25)
# A one-time password an admin made (a new user, a reset) stops working after this many days.
PATENTSEARCH_ONE_TIME_PASSWORD_DAYS = env.float("PATENTSEARCH_ONE_TIME_PASSWORD_DAYS", default=7)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
# Proxies in front that append to X-Forwarded-For (compose: 1, Caddy); 0: the peer address.
PATENTSEARCH_PROXY_COUNT = env.int("PATENTSEARCH_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "accounts.backends.client_ip"
