"""The ``offline`` backend: descriptions composed from the metadata by templates, no model.

This is not a language model and adds no knowledge: it rephrases what the metadata says (object
name, aliases from :mod:`retrieval.ml.describe.synonyms`, the class headings, the view, the
patent's caption and the captioner's caption) in several sentence patterns. It exists so that
the pipeline runs, and tests pass, where no LLM is available; real descriptions need the
``openai`` or ``transformers`` backend. The same seed and metadata always give the same texts.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from retrieval.ml.describe.classes import locarno_heading, us_class_heading
from retrieval.ml.describe.parse import MAX_CHARS
from retrieval.ml.describe.prompt import checked_fields
from retrieval.ml.describe.synonyms import aliases_for

TEMPLATES_VERSION = "1"
_FIG_PREFIX = re.compile(r"^\s*fig(?:ure)?s?\.?\s*[\w.-]+\s+(?:is|are|shows)\s+", re.IGNORECASE)
_BOILERPLATE = re.compile(r",?\s*according to (?:the|this|an?) .*$", re.IGNORECASE)
_VIEW_IN_CAPTION = re.compile(r"^(?:an?|the)\s+((?:[\w-]+,?\s+){0,4}?view)\b", re.IGNORECASE)
_DESIGN_FOR = re.compile(r"design (?:for|of) (?:an?|the) ([\w\s-]{3,60}?)(?:\s+according|[;,.]|$)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Facts:
    """What the metadata says about a figure, in phrases ready for templates."""

    object: str
    category: str
    view: str
    title: str
    caption: str
    feature: str


class OfflineBackend:
    """Deterministic template descriptions from metadata (no language model; see module doc).

    Args:
        seed: varies which templates come first; the same seed and metadata give the same output.
    """

    name = "offline"
    #: The templates name the figure's class headings, read from its own classification: texts
    #: of this backend carry the labels that class-level evaluation judges by.
    names_class_headings = True

    def __init__(self, *, seed: int = 0) -> None:
        self.seed = seed
        self.model = f"templates-v{TEMPLATES_VERSION}-seed{seed}"

    def describe(self, metadata: Mapping[str, str], n: int) -> list[str]:
        """``n`` distinct descriptions of the figure.

        Raises:
            ValueError: n < 1, no usable metadata, or more descriptions asked for than the
                templates can make distinct from this metadata.
        """
        fields = checked_fields(metadata, n)
        rng = random.Random(f"{self.seed}|{json.dumps(fields, sort_keys=True)}")
        texts = compose(facts_from(fields), aliases_for(_object_name(fields)), rng)
        if len(texts) < n:
            raise ValueError(
                f"the offline backend can compose only {len(texts)} distinct "
                f"descriptions from this metadata; {n} were asked for"
            )
        return texts[:n]


def facts_from(fields: Mapping[str, str]) -> Facts:
    """The phrases the templates use, from the cleaned metadata fields."""
    name = _object_name(fields)
    caption = re.sub(r"\bthereof\b", f"of the {name}", _clean_caption(fields.get("caption", "")))
    category = locarno_heading(fields.get("locarno_class", "")) or us_class_heading(
        fields.get("us_class", "")
    )
    return Facts(
        object=name,
        category=category,
        view=_view(fields.get("viewpoint", ""), caption),
        title=_clip(fields.get("title", ""), 150),
        caption=_clip(caption, 300),
        feature=_clip(_feature(fields.get("generated_caption", "")), 250),
    )


def compose(facts: Facts, aliases: tuple[str, ...], rng: random.Random) -> list[str]:
    """Every distinct text the templates make, templates shuffled within each alias order.

    The first alias order comes first, so the first few texts use different templates.
    """
    orders = [aliases[i:] + aliases[:i] for i in range(len(aliases))] or [()]
    texts: list[str] = []
    for order in orders:
        group = [template(facts, order) for template in TEMPLATES]
        rng.shuffle(group)
        texts += [t for t in group if t and len(t) <= MAX_CHARS and t not in texts]
    return texts


def _object_name(fields: Mapping[str, str]) -> str:
    name = fields.get("object_name") or fields.get("title") or ""
    if not name:
        found = _DESIGN_FOR.search(fields.get("caption", "").lower())
        name = found.group(1) if found else "claimed article"
    return _clip(name.strip(" .;:"), 100).lower()


def _clean_caption(caption: str) -> str:
    text = _FIG_PREFIX.sub("", caption).strip().rstrip(";.: ")
    return _BOILERPLATE.sub("", text).strip()


def _view(viewpoint: str, caption: str) -> str:
    if viewpoint:
        view = viewpoint.lower().strip(" .")
        return view if view.endswith("view") else f"{view} view"
    found = _VIEW_IN_CAPTION.match(caption)
    return " ".join(found.group(1).lower().replace(",", "").split()) if found else ""


def _feature(generated_caption: str) -> str:
    sentences = [s for s in _SENTENCE_END.split(generated_caption.strip()) if s]
    if not sentences:
        return ""
    return sentences[1] if len(sentences) > 1 else sentences[0]


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:") + "..."


def _a(phrase: str) -> str:
    return f"{'an' if phrase[:1].lower() in 'aeiou' else 'a'} {phrase}"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _in_view(f: Facts) -> str:
    return f" in {_a(f.view)}" if f.view else ""


def _aka(aliases: tuple[str, ...], lead: str = ", also called ") -> str:
    return f"{lead}{', '.join(aliases)}" if aliases else ""


Template = Callable[[Facts, tuple[str, ...]], str | None]


def _t_also_called(f: Facts, al: tuple[str, ...]) -> str:
    view = f" ({f.view})" if f.view else ""
    return f"{_cap(f.object)}{_aka(al)}, shown in a design-patent line drawing{view}."


def _t_line_drawing(f: Facts, al: tuple[str, ...]) -> str:
    aliases = f" ({', '.join(al)})" if al else ""
    category = f", an article of {f.category}" if f.category else ""
    return f"Line drawing of the {f.object}{aliases}{_in_view(f)}{category}."


def _t_view_first(f: Facts, al: tuple[str, ...]) -> str | None:
    if not f.view:
        return None
    detail = f"; {f.feature}" if f.feature else "."
    return f"{_cap(_a(f.view))} of the claimed {f.object}{_aka(al, ', known also as ')}{detail}"


def _t_category_first(f: Facts, al: tuple[str, ...]) -> str | None:
    if not f.category:
        return None
    names = " or ".join((f.object, *al[:2]))
    drawn = _a(f.view) if f.view else "a black-and-white patent drawing"
    return f"{_cap(f.category)}: {names}, drawn as {drawn}."


def _t_caption(f: Facts, al: tuple[str, ...]) -> str | None:
    if not f.caption:
        return None
    aliases = f" ({', '.join(al)})" if al else ""
    return f"{_cap(f.object)}{aliases}: {f.caption}."


def _t_feature(f: Facts, al: tuple[str, ...]) -> str | None:
    if not f.feature:
        return None
    return f"Patent figure of the {f.object}{_aka(al, ', or ')}{_in_view(f)}. {f.feature}"


def _t_title(f: Facts, al: tuple[str, ...]) -> str | None:
    if not f.title or f.title.lower() == f.object:
        return None
    return f'Design titled "{f.title}": the {f.object}{_aka(al)}{_in_view(f)}.'


def _t_ornamental(f: Facts, al: tuple[str, ...]) -> str:
    category = f", {f.category}" if f.category else ""
    aliases = f" ({' / '.join(al)})" if al else ""
    view = f", {f.view}" if f.view else ""
    return f"Ornamental design of the {f.object}{aliases}{category}{view}."


def _t_claimed(f: Facts, al: tuple[str, ...]) -> str:
    aliases = _aka(al, ", also known as ")
    return f"Design-patent drawing of the {f.object}{_in_view(f)}: the claimed article{aliases}."


def _t_reference(f: Facts, al: tuple[str, ...]) -> str:
    aliases = f" ({', '.join(al)})" if al else ""
    category = f", from the class of {f.category}" if f.category else ""
    return f"Prior-art reference figure{_in_view(f)}: the {f.object}{aliases}{category}."


def _t_line_art(f: Facts, al: tuple[str, ...]) -> str:
    category = f" ({f.category})" if f.category else ""
    art = f"black-and-white patent line art{_in_view(f)}"
    return f"{_cap(f.object)}{category}: the claimed article as {art}."


TEMPLATES: tuple[Template, ...] = (
    _t_also_called,
    _t_line_drawing,
    _t_view_first,
    _t_category_first,
    _t_caption,
    _t_feature,
    _t_title,
    _t_ornamental,
    _t_claimed,
    _t_reference,
    _t_line_art,
)
