"""The ``transformers`` backend: a local chat model folder run by Hugging Face transformers.

For GPU workers. The model is loaded from a folder on disk only (``local_files_only``), never
fetched from a hub. transformers is not a dependency of this project: install it on the
machines that use this backend (``pip install transformers``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from retrieval.ml.describe.chat_base import ChatBackend
from retrieval.ml.describe.errors import DescriptionBackendError
from retrieval.ml.describe.prompt import Message


class TransformersBackend(ChatBackend):
    """Descriptions from a local causal language model with a chat template.

    Args:
        model_path: folder with config.json, the tokenizer (with a chat template) and weights.
        device: "cuda", "cpu", ...; default cuda when available.
        max_new_tokens, temperature: generation settings (temperature 0: greedy decoding).
        max_attempts: generations per figure at most (an unusable answer is re-asked).
        seed: seeds sampling once, when the model loads.

    Raises:
        DescriptionBackendError: model_path is not a folder.
    """

    name = "transformers"

    def __init__(
        self,
        *,
        model_path: str | Path,
        device: str | None = None,
        max_new_tokens: int = 1024,
        temperature: float = 0.7,
        max_attempts: int = 3,
        seed: int = 0,
    ) -> None:
        self.model_path = Path(model_path)
        if not self.model_path.is_dir():
            raise DescriptionBackendError(
                f"model folder {self.model_path} not found: the transformers backend loads a "
                "local folder (config.json, tokenizer, weights), never from a hub"
            )
        self.model = self.model_path.name
        self.device, self.seed = device, seed
        self.max_new_tokens, self.temperature, self.max_attempts = (
            max_new_tokens,
            temperature,
            max_attempts,
        )
        self._loaded: tuple[Any, Any] | None = None

    def _who(self) -> str:
        return f"transformers model {str(self.model_path)!r}"

    def _complete(self, messages: list[Message]) -> str:
        import torch

        tokenizer, model = self._load()
        inputs = _chat_inputs(tokenizer, messages).to(model.device)
        sampling: dict[str, Any] = {"do_sample": self.temperature > 0}
        if self.temperature > 0:
            sampling["temperature"] = self.temperature
        with torch.inference_mode():
            output = model.generate(
                **inputs,
                max_new_tokens=self.max_new_tokens,
                pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
                **sampling,
            )
        new_tokens = output[0, inputs["input_ids"].shape[1] :]
        text: str = tokenizer.decode(new_tokens, skip_special_tokens=True)
        return text

    def _load(self) -> tuple[Any, Any]:
        if self._loaded is None:
            transformers = _import_transformers()
            import torch

            device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
            path = str(self.model_path)
            try:
                tokenizer = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
                model = transformers.AutoModelForCausalLM.from_pretrained(
                    path, local_files_only=True, torch_dtype="auto"
                )
            except (OSError, ValueError) as exc:
                raise DescriptionBackendError(
                    f"model folder {path} could not be loaded: {exc}"
                ) from exc
            transformers.set_seed(self.seed)
            self._loaded = (tokenizer, model.to(device).eval())
        return self._loaded


def _import_transformers() -> Any:
    try:
        import transformers  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        raise DescriptionBackendError(
            "the transformers backend needs the transformers package, which this project does "
            "not install: pip install transformers"
        ) from exc
    return transformers


def _chat_inputs(tokenizer: Any, messages: list[Message]) -> Any:
    """Token ids of the conversation; merges the system prompt into the first user turn for
    chat templates that have no system role (they raise on one)."""
    try:
        return _apply_template(tokenizer, messages)
    except _template_errors() as exc:
        if messages[0]["role"] != "system" or "system" not in str(exc).lower():
            raise
    merged = [
        {"role": "user", "content": f"{messages[0]['content']}\n\n{messages[1]['content']}"},
        *messages[2:],
    ]
    return _apply_template(tokenizer, merged)


def _template_errors() -> tuple[type[Exception], ...]:
    try:
        from jinja2 import TemplateError  # what chat templates raise (transformers needs jinja2)
    except ImportError:
        return (ValueError,)
    return (TemplateError, ValueError)


def _apply_template(tokenizer: Any, messages: list[Message]) -> Any:
    return tokenizer.apply_chat_template(
        messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
