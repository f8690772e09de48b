"""All settings, read from the environment. Defaults in code are the safe (production) ones.

Reading them starts no server and writes no file (patentsearch.embedded.prepare does that, once
per process). Each component stands alone: paths and server URLs in components/paths.py, DEBUG
and the secret key in components/security.py, one component per app.
"""

from patentsearch.env import BASE_DIR, env
from patentsearch.settings.components.cases import *  # noqa: F403
from patentsearch.settings.components.celery import *  # noqa: F403
from patentsearch.settings.components.console import *  # noqa: F403
from patentsearch.settings.components.console import CONSOLE_IMPORT_ROOT, FILE_UPLOAD_TEMP_DIR
from patentsearch.settings.components.paths import *  # noqa: F403
from patentsearch.settings.components.paths import MEDIA_ROOT, STATIC_ROOT, VAR_DIR
from patentsearch.settings.components.retrieval import *  # noqa: F403
from patentsearch.settings.components.security import *  # noqa: F403

# Folders made by patentsearch.embedded.prepare() before the process works (VAR_DIR holds Celery
# beat's schedule; WhiteNoise serves STATIC_ROOT once collected; large uploads stream to
# FILE_UPLOAD_TEMP_DIR).
PATENTSEARCH_FOLDERS = [VAR_DIR, STATIC_ROOT, MEDIA_ROOT, FILE_UPLOAD_TEMP_DIR]
if VAR_DIR in CONSOLE_IMPORT_ROOT.parents:  # the default import folder is made too; one set elsewhere is the operator's
    PATENTSEARCH_FOLDERS.append(CONSOLE_IMPORT_ROOT)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "retrieval",
    "cases",
    "studies",
    "console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "patentsearch.middleware.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "patentsearch.urls"
WSGI_APPLICATION = "patentsearch.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "accounts.backends.LockoutBackend",  # django-axes: refuses locked-out logins first
    "accounts.backends.RoleBackend",  # permissions from the user's role (accounts.roles)
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "retrieval:search"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "patentsearch.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "patentsearch.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "patentsearch.api.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "patentsearch.pagination.Pagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PatentSearch API",
    "DESCRIPTION": "Search patent drawings by drawing; review and export prior art.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="WARNING")},
    "loggers": {"retrieval": {"level": env("RETRIEVAL_LOG_LEVEL", default="INFO")}},
}
