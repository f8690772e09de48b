"""Settings of the admin console (CONSOLE_*)."""

from pathlib import Path

from patentsearch.env import env
from patentsearch.settings.components.paths import VAR_DIR

# Corpus archives uploaded through the console or POST /api/v1/corpora/: at most this many bytes
# (the request-size middleware lets this much through on the upload path only).
CONSOLE_MAX_UPLOAD_BYTES = env.int("CONSOLE_MAX_UPLOAD_BYTES", default=20 * 1024**3)
# Uploaded archives are kept here until their ingest job has finished.
CONSOLE_UPLOAD_DIR = Path(env("CONSOLE_UPLOAD_DIR", default=str(VAR_DIR / "uploads")))
# Request bodies over FILE_UPLOAD_MAX_MEMORY_SIZE stream to a temporary file here, on the same disk
# as the upload folder, so keeping an uploaded archive is a rename, never a second copy.
FILE_UPLOAD_TEMP_DIR = str(CONSOLE_UPLOAD_DIR / "incoming")
# "Add a folder on the server": only folders (or .zip files) under this root are accepted.
CONSOLE_IMPORT_ROOT = Path(env("CONSOLE_IMPORT_ROOT", default=str(VAR_DIR / "import")))
# Request bodies on these paths may be as large as the upload limit (patentsearch.middleware).
PATENTSEARCH_LARGE_BODY_PATHS = {"/api/v1/corpora/": CONSOLE_MAX_UPLOAD_BYTES}
# A running ingest or evaluate job whose heartbeat (a progress write) is older than this is failed
# by the jobs sweep (Celery beat, every CONSOLE_SWEEP_SECONDS): its worker died or lost the database.
CONSOLE_JOB_STALE_SECONDS = env.int("CONSOLE_JOB_STALE_SECONDS", default=20 * 60)
CONSOLE_SWEEP_SECONDS = env.float("CONSOLE_SWEEP_SECONDS", default=5 * 60)
