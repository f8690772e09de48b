import json

import pytest

from retrieval.ml.describe.errors import DescriptionFormatError
from retrieval.ml.describe.parse import parse_descriptions
from retrieval.ml.describe.prompt import FIELD_NAMES, build_messages, user_prompt

pytestmark = pytest.mark.ml

GOOD = [
    "Mobile phone, smartphone, cellular handset seen from the front.",
    "Front view of a slim rectangular smartphone with a large display.",
]


def _answer(value: object) -> str:
    return json.dumps(value)


def test_accepts_a_valid_answer_and_strips_texts() -> None:
    padded = [f"  {t}\n" for t in GOOD]
    assert parse_descriptions(_answer({"descriptions": padded}), 2) == GOOD


def test_accepts_a_fenced_json_block_and_a_reasoning_preamble() -> None:
    fenced = "Here you are:\n```json\n" + _answer({"descriptions": GOOD}) + "\n```\n"
    assert parse_descriptions(fenced, 2) == GOOD
    thinking = "<think>The user wants two.</think>\n" + _answer({"descriptions": GOOD})
    assert parse_descriptions(thinking, 2) == GOOD


@pytest.mark.parametrize(
    ("output", "problem"),
    [
        ("Sure! Here are descriptions: a phone.", "not JSON"),
        (_answer(GOOD), "expected a JSON object, got list"),
        (_answer({"texts": GOOD}), "expected exactly the key 'descriptions'"),
        (_answer({"descriptions": GOOD, "notes": "x"}), "expected exactly the key 'descriptions'"),
        (_answer({"descriptions": "one long text"}), "must be a list"),
        (_answer({"descriptions": GOOD[:1]}), "expected 2 descriptions, got 1"),
        (_answer({"descriptions": [GOOD[0], "   "]}), "description 2 is empty"),
        (_answer({"descriptions": [GOOD[0], 7]}), "description 2 is a int"),
        (_answer({"descriptions": [GOOD[0], "phone"]}), "description 2 is too short"),
        (_answer({"descriptions": [GOOD[0], "x" * 601]}), "description 2 is too long"),
        (_answer({"descriptions": [GOOD[0], GOOD[0].upper() + " "]}), "repeats description 1"),
    ],
)
def test_rejects_malformed_output_saying_what_is_wrong(output: str, problem: str) -> None:
    with pytest.raises(DescriptionFormatError, match=problem):
        parse_descriptions(output, 2)


def test_prompt_has_the_examiner_persona_every_field_and_the_json_form() -> None:
    metadata = {name: f"value-of-{name}" for name in FIELD_NAMES}
    metadata |= {"locarno_class": "14-03", "us_class": "D14/138", "width": "800"}
    system, user = build_messages(metadata, 4)
    assert system["role"] == "system" and "patent examiner" in system["content"]
    for name in FIELD_NAMES:
        assert metadata[name] in user["content"], name
    assert "recording, telecommunication or data processing equipment" in user["content"]
    assert "recording, communication or information retrieval equipment" in user["content"]
    assert "Write 4 different descriptions" in user["content"]
    assert '{"descriptions": [' in user["content"] and "800" not in user["content"]


def test_prompt_needs_some_metadata_and_a_positive_count() -> None:
    with pytest.raises(ValueError, match="no metadata"):
        user_prompt({"object_name": "  ", "width": "5"}, 3)
    with pytest.raises(ValueError, match="n must be at least 1"):
        user_prompt({"object_name": "chair"}, 0)
