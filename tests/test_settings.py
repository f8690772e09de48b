"""patentsearch/settings and embedded.prepare(): reading the settings starts nothing and writes
nothing; prepare() makes what the process needs, and nothing embedded in production."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.faults.helpers import REPO, fresh_env


def _run(code: str, env: dict[str, str]) -> dict:
    setup = "import django, json; django.setup(); from django.conf import settings; "
    done = subprocess.run([sys.executable, "-c", setup + code], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_reading_the_settings_starts_no_server_and_writes_no_file(tmp_path):
    var = tmp_path / "var"
    env = fresh_env(var, DJANGO_DEBUG="false")  # no DJANGO_SECRET_KEY: a kept one, made on first use
    seen = _run(
        "import os; before = os.path.exists(settings.VAR_DIR); "
        "key = str(settings.SECRET_KEY); "
        "print(json.dumps({'before': before, 'key': len(key), 'servers': sorted(settings.PATENTSEARCH_EMBEDDED_SERVERS), "
        "'db': settings.DATABASES['default']['HOST'], 'redis': settings.REDIS_URL}))",
        env,
    )
    assert seen["before"] is False  # nothing at all was written by reading the settings
    assert seen["servers"] == ["cache", "postgres", "redis"]
    assert seen["db"] == str(var / "postgres") and seen["redis"] == f"unix://{var / 'redis' / 'redis.sock'}"
    # the kept secret key was made when it was first used, private, and is the same next time
    key_file = var / "secret_key"
    assert seen["key"] >= 50 and len(key_file.read_text().strip()) == seen["key"]
    assert key_file.stat().st_mode & 0o077 == 0
    assert sorted(p.name for p in var.iterdir()) == ["secret_key"]


def test_with_external_servers_prepare_starts_nothing_and_makes_the_folders(tmp_path):
    var = tmp_path / "var"
    env = fresh_env(var, DATABASE_URL="postgres://nobody@127.0.0.1:9/none", REDIS_URL="redis://127.0.0.1:9/0",
                    REDIS_CACHE_URL="redis://127.0.0.1:9/1")
    seen = _run(
        "from patentsearch import embedded; embedded.prepare(); "
        "print(json.dumps({'servers': list(settings.PATENTSEARCH_EMBEDDED_SERVERS)}))",
        env,
    )
    assert seen["servers"] == []
    made = {p.relative_to(var).as_posix() for p in var.rglob("*")}
    # no postgres, no redis; the console's import folder, where an admin puts a corpus folder
    assert made == {"media", "staticfiles", "uploads", "uploads/incoming", "import"}


def test_the_demo_stops_everything_on_kill_and_on_ctrl_c_even_started_in_the_background(tmp_path):
    """`make demo` stops the processes it started when it is interrupted (KeyboardInterrupt): by
    Ctrl-C, by `kill PID` (SIGTERM), by a closed terminal (SIGHUP), and by SIGINT where the shell
    that started it in the background set SIGINT to be ignored."""
    code = (
        "import os, signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
        "from patentsearch.demo import stop_on_signals; stop_on_signals(); stopped = []\n"
        "for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):\n"
        "    try:\n"
        "        os.kill(os.getpid(), signum); time.sleep(5)\n"
        "    except KeyboardInterrupt:\n"
        "        stopped.append(signum.name)\n"
        "print(stopped)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300,
                          env=fresh_env(tmp_path / "var"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == "['SIGTERM', 'SIGHUP', 'SIGINT']"


def test_an_identical_drawing_threshold_that_would_match_other_patents_is_refused(tmp_path):
    env = fresh_env(tmp_path / "var", RETRIEVAL_IDENTICAL_MIN_COSINE="0.5")
    done = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "RETRIEVAL_IDENTICAL_MIN_COSINE is 0.5: below 0.9 drawings of other patents" in done.stderr
    off = fresh_env(tmp_path / "var2", RETRIEVAL_IDENTICAL_MIN_COSINE="1.5")  # above 1: off, accepted
    assert _run("print(json.dumps(settings.RETRIEVAL_IDENTICAL_MIN_COSINE))", off) == 1.5
