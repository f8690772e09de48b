"""Checking a model's answer: exactly ``{"descriptions": [N distinct, sensible strings]}``."""

from __future__ import annotations

import json
import re

from retrieval.ml.describe.errors import DescriptionFormatError

MIN_CHARS = 20
MAX_CHARS = 600
KEY = "descriptions"
_FENCED = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)
_THINKING = re.compile(r"^\s*<think>.*?</think>", re.DOTALL)


def parse_descriptions(
    output: str, n: int, *, min_chars: int = MIN_CHARS, max_chars: int = MAX_CHARS
) -> list[str]:
    """The ``n`` descriptions of a model's answer, stripped.

    Accepts the bare JSON object or one inside a Markdown code fence (```json ... ```), which
    chat models often add, after a leading ``<think>...</think>`` block of a reasoning model.

    Raises:
        DescriptionFormatError: the answer is not a JSON object with exactly the key
            ``descriptions`` holding a list of ``n`` distinct strings of ``min_chars`` to
            ``max_chars`` characters; the message says which rule was broken.
    """
    value = _json_object(output)
    items = value[KEY]
    if not isinstance(items, list):
        raise DescriptionFormatError(f"'{KEY}' must be a list, got {type(items).__name__}")
    if len(items) != n:
        raise DescriptionFormatError(f"expected {n} descriptions, got {len(items)}")
    texts = [_checked_text(item, index, min_chars, max_chars) for index, item in enumerate(items)]
    _check_distinct(texts)
    return texts


def _json_object(output: str) -> dict[str, object]:
    text = _THINKING.sub("", output).strip()
    fenced = _FENCED.search(text)
    if fenced and not text.startswith("{"):
        text = fenced.group(1).strip()
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DescriptionFormatError(
            f"not JSON ({exc.msg} at char {exc.pos}): {_excerpt(output)}"
        ) from exc
    if not isinstance(value, dict):
        raise DescriptionFormatError(f"expected a JSON object, got {type(value).__name__}")
    if set(value) != {KEY}:
        raise DescriptionFormatError(f"expected exactly the key '{KEY}', got {sorted(value)}")
    return value


def _checked_text(item: object, index: int, min_chars: int, max_chars: int) -> str:
    where = f"description {index + 1}"
    if not isinstance(item, str):
        raise DescriptionFormatError(f"{where} is a {type(item).__name__}, not a string")
    text = item.strip()
    if not text:
        raise DescriptionFormatError(f"{where} is empty")
    if len(text) < min_chars:
        raise DescriptionFormatError(f"{where} is too short ({len(text)} < {min_chars} characters)")
    if len(text) > max_chars:
        raise DescriptionFormatError(f"{where} is too long ({len(text)} > {max_chars} characters)")
    return text


def _check_distinct(texts: list[str]) -> None:
    seen: dict[str, int] = {}
    for index, text in enumerate(texts):
        key = " ".join(text.lower().split())
        if key in seen:
            raise DescriptionFormatError(
                f"description {index + 1} repeats description {seen[key] + 1}"
            )
        seen[key] = index


def _excerpt(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[:limit] + "...")
