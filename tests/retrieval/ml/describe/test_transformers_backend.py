"""The transformers backend with a stand-in ``transformers`` module (the real one is not a
dependency, and tests download no weights): checks the chat-template, generate and parse flow."""

import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest
import torch

from retrieval.ml.describe import DescriptionBackendError, DescriptionFormatError, make_backend

pytestmark = pytest.mark.ml

METADATA = {"object_name": "table lamp", "viewpoint": "side"}
TEXTS = [
    "Table lamp, desk lamp or bedside light fixture in a side view.",
    "Side view of a lamp with a conical shade on a slender stem and round base.",
]


class _Inputs(dict):  # type: ignore[type-arg]
    def to(self, device: object) -> "_Inputs":
        return self


class _Tokenizer:
    pad_token_id = None
    eos_token_id = 0

    def __init__(self, answers: list[str], system_role: bool) -> None:
        self.answers, self.system_role, self.conversations = answers, system_role, []

    def apply_chat_template(self, messages: list[dict[str, str]], **kwargs: Any) -> _Inputs:
        if not self.system_role and messages[0]["role"] == "system":
            raise ValueError("System role not supported")
        assert kwargs["add_generation_prompt"] and kwargs["return_dict"]
        self.conversations.append(messages)
        return _Inputs(input_ids=torch.zeros((1, 3), dtype=torch.long))

    def decode(self, tokens: torch.Tensor, skip_special_tokens: bool) -> str:
        assert tokens.tolist() == [7, 7], "only the new tokens are decoded"
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


class _Model:
    device = "cpu"

    def to(self, device: str) -> "_Model":
        return self

    def eval(self) -> "_Model":
        return self

    def generate(self, input_ids: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        assert kwargs["max_new_tokens"] > 0
        return torch.cat([input_ids, torch.full((1, 2), 7)], dim=1)


def _fake_transformers(
    monkeypatch: pytest.MonkeyPatch, answers: list[str], system_role: bool = True
) -> _Tokenizer:
    tokenizer = _Tokenizer(answers, system_role)
    module = types.ModuleType("transformers")
    module.AutoTokenizer = types.SimpleNamespace(from_pretrained=lambda path, **kw: tokenizer)  # type: ignore[attr-defined]
    module.AutoModelForCausalLM = types.SimpleNamespace(from_pretrained=lambda path, **kw: _Model())  # type: ignore[attr-defined]
    module.set_seed = lambda seed: None  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "transformers", module)
    return tokenizer


def test_generates_from_the_chat_template_and_parses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokenizer = _fake_transformers(monkeypatch, [json.dumps({"descriptions": TEXTS})])
    backend = make_backend("transformers", model_path=tmp_path, device="cpu")
    assert backend.describe(METADATA, 2) == TEXTS
    assert backend.model == tmp_path.name
    assert tokenizer.conversations[0][0]["role"] == "system"


def test_reasks_after_a_bad_answer_and_fails_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_transformers(monkeypatch, ["no JSON here"])
    with pytest.raises(DescriptionFormatError, match="2 attempt"):
        make_backend("transformers", model_path=tmp_path, max_attempts=2).describe(METADATA, 2)


def test_templates_without_a_system_role_get_it_merged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokenizer = _fake_transformers(
        monkeypatch, [json.dumps({"descriptions": TEXTS})], system_role=False
    )
    assert make_backend("transformers", model_path=tmp_path).describe(METADATA, 2) == TEXTS
    (user,) = tokenizer.conversations[0]
    assert (
        user["role"] == "user"
        and "patent examiner" in user["content"]
        and "table lamp" in user["content"]
    )


def test_missing_package_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "transformers", None)  # import fails
    with pytest.raises(DescriptionBackendError, match="pip install transformers"):
        make_backend("transformers", model_path=tmp_path).describe(METADATA, 2)


def test_model_path_must_be_a_local_folder(tmp_path: Path) -> None:
    with pytest.raises(DescriptionBackendError, match="never from a hub"):
        make_backend("transformers", model_path=tmp_path / "Qwen/Qwen2.5-7B-Instruct")
