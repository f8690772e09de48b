"""What a page shows, read as a user reads it."""

from __future__ import annotations

import html
import re

from django.test import Client


def alert_lines(response: object) -> list[str]:
    """The lines of a page's error box (role="alert"), unescaped; [] when it shows none."""
    content = response.content.decode()  # type: ignore[attr-defined]
    boxes = re.findall(r'<div class="error" role="alert"[^>]*>(.*?)</div>', content, re.S)
    return [html.unescape(line).strip() for box in boxes for line in re.findall(r"<p[^>]*>(.*?)</p>", box, re.S)]


def signed_in(user: object) -> Client:
    """A browser with ``user`` signed in (no login form: where the form is not what is tested)."""
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client
