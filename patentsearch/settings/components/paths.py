"""Where the project keeps its data, and where its servers are: folders and URLs only.

Reading this starts no server and writes nothing: an embedded server is only named here (its
socket path is known before it runs) and listed in PATENTSEARCH_EMBEDDED_SERVERS, and folders are
only named (base.PATENTSEARCH_FOLDERS lists those a process needs). `patentsearch.embedded.prepare()`,
called once by every kind of process, makes the folders and starts (or joins) the listed servers.
"""

from pathlib import Path

from patentsearch import embedded
from patentsearch.env import BASE_DIR, env

VAR_DIR = Path(env("PATENTSEARCH_VAR_DIR", default=str(BASE_DIR / "var"))).resolve()

# Each server not given by its URL is an embedded one, with its data in VAR_DIR.
_DATABASE_URL = env("DATABASE_URL", default="")
_REDIS_URL = env("REDIS_URL", default="")
_REDIS_CACHE_URL = env("REDIS_CACHE_URL", default="")
PATENTSEARCH_EMBEDDED_SERVERS = {
    kind: VAR_DIR / folder
    for kind, folder, given in (
        ("postgres", "postgres", _DATABASE_URL), ("redis", "redis", _REDIS_URL), ("cache", "redis-cache", _REDIS_CACHE_URL)
    )
    if not given
}
PATENTSEARCH_CACHE_MAX_MEMORY = env("PATENTSEARCH_CACHE_MAX_MEMORY", default="256mb")
# The embedded PostgreSQL's buffer cache in MB (patentsearch.embedded; an external server is tuned by its owner).
PATENTSEARCH_PG_SHARED_BUFFERS_MB = env.int("PATENTSEARCH_PG_SHARED_BUFFERS_MB", default=embedded.default_shared_buffers_mb())

if _DATABASE_URL:
    DATABASES = {"default": embedded.unquote_socket_host(env.db("DATABASE_URL"))}
else:
    DATABASES = {"default": embedded.postgres_settings(PATENTSEARCH_EMBEDDED_SERVERS["postgres"])}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = _REDIS_URL or embedded.redis_url(PATENTSEARCH_EMBEDDED_SERVERS["redis"])
# Uploaded query drawings (decoded first pages) are cached in a Redis of their own with a memory
# cap (PATENTSEARCH_CACHE_MAX_MEMORY) and least-recently-used eviction, never in the broker's Redis.
REDIS_CACHE_URL = _REDIS_CACHE_URL or embedded.redis_url(PATENTSEARCH_EMBEDDED_SERVERS["cache"])
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "patentsearch",
    },
    "queries": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_CACHE_URL,
        "KEY_PREFIX": "patentsearch",
    },
}

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))  # WhiteNoise serves it
MEDIA_ROOT = Path(env("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "media/"
