"""The prompt of the language-informed step (Lo et al. 2024): an examiner persona, the figure's
metadata, and a request for N varied, alias-rich descriptions returned as JSON.

Change :data:`PROMPT_VERSION` whenever the wording changes: it is part of every cache key, so
descriptions written under an older prompt are not served for the new one.
"""

from __future__ import annotations

from collections.abc import Mapping

from retrieval.ml.describe.classes import locarno_heading, us_class_heading

PROMPT_VERSION = "1"

#: The metadata fields a description is written from, in prompt order, with their labels.
FIELDS: tuple[tuple[str, str], ...] = (
    ("object_name", "Object (the article named in the claim)"),
    ("title", "Patent title"),
    ("viewpoint", "View shown"),
    ("caption", "The patent's own description of this figure"),
    ("locarno_class", "Locarno class"),
    ("us_class", "US design class"),
    ("generated_caption", "Caption by an image-captioning model (may be inaccurate)"),
)
FIELD_NAMES = tuple(name for name, _ in FIELDS)

Message = dict[str, str]

SYSTEM_PROMPT = (
    "You are an experienced patent examiner specialising in industrial designs (design "
    "patents). You know the Locarno and US design classifications and the words examiners, "
    "designers and buyers use for products. You write precise, factual descriptions of patent "
    "drawings that help a prior-art image search find them: the specific object name with its "
    "common aliases, the product category, the view the drawing shows, and the distinctive "
    "visible design features. You answer with JSON only."
)

_INSTRUCTIONS = """Each description:
- names the object specifically, then two or three aliases or synonyms a searcher might use \
(for example "mobile phone, smartphone, cellular handset"), and its product category;
- says which view the drawing shows, when the metadata tells it;
- mentions design features the drawing likely shows (overall shape, proportions, parts, \
surface details), consistent with the metadata; never invents brand names, colours, materials \
or patent numbers;
- is one or two sentences, 15 to 80 words, in plain English.
Vary the wording, the order and the emphasis so that no two descriptions are alike."""


def present_fields(metadata: Mapping[str, str]) -> dict[str, str]:
    """The known fields of ``metadata`` that have a value, in :data:`FIELDS` order.

    Values are stripped and their whitespace collapsed; keys outside :data:`FIELD_NAMES` are
    ignored (corpus columns such as image size say nothing about the object).
    """
    cleaned = {name: " ".join(str(metadata.get(name) or "").split()) for name in FIELD_NAMES}
    return {name: value for name, value in cleaned.items() if value}


def user_prompt(metadata: Mapping[str, str], n: int) -> str:
    """The user message: every metadata field present, the instructions, the JSON form.

    Raises:
        ValueError: n < 1, or no known field of the metadata has a value.
    """
    fields = checked_fields(metadata, n)
    lines = [
        f"- {label}: {_with_heading(name, fields[name])}"
        for name, label in FIELDS
        if name in fields
    ]
    return "\n".join(
        [
            f"Write {n} different descriptions of this design-patent figure for a prior-art image "
            + "search index.",
            "",
            "Figure metadata:",
            *lines,
            "",
            _INSTRUCTIONS,
            "",
            f"Answer with only a JSON object of this form, holding exactly {n} strings:",
            '{"descriptions": ["...", "..."]}',
        ]
    )


def build_messages(metadata: Mapping[str, str], n: int) -> list[Message]:
    """The chat messages (system persona, user request) asking for ``n`` descriptions."""
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": user_prompt(metadata, n)},
    ]


def repair_messages(messages: list[Message], output: str, problem: str, n: int) -> list[Message]:
    """The conversation extended with the model's unusable answer and a request to fix it."""
    request = (
        f"That answer could not be used: {problem}. Answer again with only the JSON object "
        f'{{"descriptions": [...]}} holding exactly {n} different descriptions.'
    )
    return [
        *messages,
        {"role": "assistant", "content": output},
        {"role": "user", "content": request},
    ]


def checked_fields(metadata: Mapping[str, str], n: int) -> dict[str, str]:
    """The metadata fields present, after checking that ``n`` >= 1 and that there are some.

    Raises:
        ValueError: n < 1, or no metadata field is present.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    fields = present_fields(metadata)
    if not fields:
        raise ValueError(
            f"no metadata to describe the figure from: give one of {', '.join(FIELD_NAMES)}"
        )
    return fields


def _with_heading(name: str, value: str) -> str:
    heading = ""
    if name == "locarno_class":
        heading = locarno_heading(value)
    elif name == "us_class":
        heading = us_class_heading(value)
    return f"{value} ({heading})" if heading else value
