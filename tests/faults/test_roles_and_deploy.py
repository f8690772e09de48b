"""Roles that mean something, admin uploads that cannot smuggle content, and production settings
that pass `check --deploy` (issue 9, points 8 and 9)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.urls import reverse

from accounts.models import User
from accounts.services import user_create
from patentsearch.embedded import database_url
from retrieval.ingest.pipeline import corpus_ingest
from retrieval.models import Figure, FigureEmbedding, RetrievalModel
from retrieval.services.encoding import figure_encode_batch
from tests.drawings import drawing, png_bytes, small_corpus
from tests.faults.helpers import REPO

pytestmark = pytest.mark.django_db
PASSWORD = "a long enough passphrase 7"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'


def test_an_admin_role_is_staff_with_the_admin_permissions_not_a_superuser(client):
    admin = user_create(username="ann", password=PASSWORD, role=User.Role.ADMIN)
    assert admin.is_staff and not admin.is_superuser
    assert admin.has_perm("retrieval.change_corpus") and admin.has_perm("accounts.search_prior_art")
    assert not admin.has_perm("accounts.change_user") and not admin.has_perm("retrieval.delete_corpus")
    client.force_login(admin)
    assert client.get(reverse("admin:retrieval_corpus_changelist")).status_code == 200
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 403


def test_a_participant_cannot_search_but_an_examiner_can(client):
    participant = user_create(username="pat", password=PASSWORD, role=User.Role.PARTICIPANT)
    examiner = user_create(username="ed", password=PASSWORD, role=User.Role.EXAMINER)
    client.force_login(participant)
    page = client.get("/")  # a participant's home is their study, never the search page
    assert page.status_code == 302 and page.url == "/studies/run/"
    assert client.post("/api/v1/search/", {"text": "a cup"}).status_code == 403
    client.force_login(examiner)
    assert client.get("/").status_code == 200


def test_search_pages_cases_and_the_menu_follow_the_one_search_permission(client):
    """Who may search prior art works cases: one permission (the role's group), read by the
    search page and API, the case pages and API, and the menu; no second role rule."""
    from django.contrib.auth.models import Group

    from accounts.roles import role_group_name

    examiner = user_create(username="ed", password=PASSWORD, role=User.Role.EXAMINER)
    client.force_login(examiner)
    assert client.get("/cases/").status_code == 200 and 'href="/cases/"' in client.get("/studies/run/").text
    group = Group.objects.get(name=role_group_name("examiner"))
    group.permissions.remove(Permission.objects.get(codename="search_prior_art"))
    examiner = User.objects.get(pk=examiner.pk)  # permissions are cached per user object
    client.force_login(examiner)
    assert client.get("/cases/").status_code == 404
    assert client.get("/api/v1/cases/").status_code == 403
    assert client.get("/").status_code == 302
    assert 'href="/cases/"' not in client.get("/studies/run/").text


def test_view_permission_alone_cannot_activate_a_model(client, active_model):
    other = RetrievalModel.objects.create(name="other", architecture="x", dim=8, checkpoint="x", version="x")
    viewer = User.objects.create_user("vic", password=PASSWORD, is_staff=True, role=User.Role.PARTICIPANT)
    viewer.user_permissions.add(Permission.objects.get(codename="view_retrievalmodel"))
    client.force_login(viewer)
    url = reverse("admin:retrieval_retrievalmodel_changelist")
    client.post(url, {"action": "activate", "_selected_action": [other.pk]})
    other.refresh_from_db()
    active_model.refresh_from_db()
    assert not other.is_active and active_model.is_active


def _figure_form(figure: Figure, upload: io.BytesIO) -> dict:
    return {
        "patent": figure.patent_id, "corpus": figure.corpus_id, "figure_label": figure.figure_label,
        "source_file": figure.source_file, "page": figure.page, "viewpoint": "", "caption": "",
        "metadata": "{}", "status": "ready", "error": "", "image": upload,
        "texts-TOTAL_FORMS": "0", "texts-INITIAL_FORMS": "0", "texts-MIN_NUM_FORMS": "0",
        "texts-MAX_NUM_FORMS": "1000",
    }


def test_admin_figure_uploads_pass_the_image_checks_and_are_served_as_their_format(
    client, tmp_path, active_model, django_capture_on_commit_callbacks
):
    admin = user_create(username="ann", password=PASSWORD, role=User.Role.ADMIN)
    client.force_login(admin)
    figure = Figure.objects.get(pk=corpus_ingest(path=small_corpus(tmp_path / "c", patents=1, views=1)).figure_ids[0])
    before = figure.image.name
    url = reverse("admin:retrieval_figure_change", args=[figure.pk])

    svg = io.BytesIO(SVG)
    svg.name = "figure.png"
    response = client.post(url, _figure_form(figure, svg))
    assert response.status_code == 200 and b"cannot be used" in response.content
    figure.refresh_from_db()
    assert figure.image.name == before

    png = io.BytesIO(png_bytes(drawing(42)))
    png.name = "figure.svg"  # the name does not decide anything
    figure_encode_batch(figure_ids=[figure.pk], model_id=active_model.pk)
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(url, _figure_form(figure, png))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert not FigureEmbedding.objects.filter(figure=figure).exists()  # the old vector is gone
    assert len(queued) == 2  # and the new image is queued for encoding, the figure's text row for a rebuild
    figure.refresh_from_db()
    assert figure.image.name.endswith(".png") and figure.sha256 in figure.image.name
    served = client.get(reverse("retrieval:figure-image", args=[figure.pk]))
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"


def test_the_docker_image_holds_everything_the_app_needs(tmp_path):
    """The image's /app is what the Dockerfile's COPY lines put there: check --deploy passes on
    those files alone (this checkout's editable install, which would import a package the image
    lacks from here, is taken off the import path)."""
    dockerfile = (REPO / "docker" / "Dockerfile").read_text()
    copies = re.findall(r"^COPY (?!--)(\S+(?: \S+)*) (\S+)$", dockerfile, flags=re.MULTILINE)
    assert copies, "no COPY lines found in docker/Dockerfile"
    for sources, target in copies:  # COPY a b ./ puts each into the folder; COPY a ./a puts a there
        for source in sources.split():
            destination = tmp_path / target / source if target.endswith("/") else tmp_path / target
            if (REPO / source).is_dir():
                shutil.copytree(REPO / source, destination, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(REPO / source, destination)
    done = _check_deploy(cwd=tmp_path, DJANGO_SECRET_KEY="Zq7" + "x1-Kp9_vR2mT8wL4sN6bY0cH3jF5gD" * 2)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


# Runs manage.py from the working folder without this checkout's editable install.
_WITHOUT_CHECKOUT = (
    "import runpy, sys; "
    "sys.meta_path[:] = [f for f in sys.meta_path if not str(getattr(f, '__module__', '')).startswith('__editable__')]; "
    "sys.argv = ['manage.py', *sys.argv[1:]]; runpy.run_path('manage.py', run_name='__main__')"
)


def _check_deploy(cwd: Path = REPO, **env: str) -> subprocess.CompletedProcess[str]:
    from django.conf import settings

    environment = {
        "PATH": "/usr/bin:/bin", "HOME": "/tmp",
        "DJANGO_SETTINGS_MODULE": "patentsearch.settings.base",
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "patentsearch.example.org",
        "DJANGO_SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO",
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": settings.REDIS_URL,
        "REDIS_CACHE_URL": settings.REDIS_CACHE_URL,
        "PATENTSEARCH_VAR_DIR": str(settings.VAR_DIR),
        **env,
    }
    program = ["manage.py"] if cwd == REPO else ["-c", _WITHOUT_CHECKOUT]
    return subprocess.run(
        [sys.executable, *program, "check", "--deploy", "--fail-level", "WARNING"],
        cwd=cwd, env=environment, capture_output=True, text=True, timeout=300,
    )


def test_check_deploy_is_clean_with_the_production_environment():
    done = _check_deploy(DJANGO_SECRET_KEY="Zq7" + "x1-Kp9_vR2mT8wL4sN6bY0cH3jF5gD" * 2)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


@pytest.mark.parametrize("key", ["change-me-to-a-long-random-string", "short-key"])
def test_a_placeholder_or_short_secret_key_is_refused(key):
    done = _check_deploy(DJANGO_SECRET_KEY=key)
    assert done.returncode != 0
    assert "DJANGO_SECRET_KEY is" in done.stderr
