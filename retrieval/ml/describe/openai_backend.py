"""The ``openai`` backend: any OpenAI-compatible chat-completions endpoint.

vLLM, Ollama, llama.cpp's server, LM Studio and hosted APIs all speak this protocol: POST
``{base_url}/chat/completions`` with ``model`` and ``messages``, answer in
``choices[0].message.content``. Uses only the standard library (urllib).
"""

from __future__ import annotations

import http.client
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from email.utils import parsedate_to_datetime

from retrieval.ml.describe.chat_base import ChatBackend
from retrieval.ml.describe.errors import (
    BackendUnavailableError,
    DescriptionBackendError,
    DescriptionFormatError,
)
from retrieval.ml.describe.prompt import Message

ENV_BASE_URL = "PATENTSEARCH_LLM_BASE_URL"
ENV_MODEL = "PATENTSEARCH_LLM_MODEL"
ENV_API_KEY = "PATENTSEARCH_LLM_API_KEY"
_TRANSIENT_STATUS = {408, 425, 429, 500, 502, 503, 504}


def configured_endpoint() -> tuple[str, str]:
    """The endpoint and model name the environment configures (PATENTSEARCH_LLM_BASE_URL,
    PATENTSEARCH_LLM_MODEL; "" when unset): the one place that reads them."""
    return (
        os.environ.get(ENV_BASE_URL, "").strip().rstrip("/"),
        os.environ.get(ENV_MODEL, "").strip(),
    )


class OpenAIBackend(ChatBackend):
    """Descriptions from a chat-completions endpoint, with retries and re-asking.

    Args:
        base_url: e.g. ``http://localhost:8000/v1`` (default: env PATENTSEARCH_LLM_BASE_URL).
            A URL that already ends in ``/chat/completions`` is used as it is.
        model: the served model's name (default: env PATENTSEARCH_LLM_MODEL).
        api_key: sent as a bearer token when not empty (default: env PATENTSEARCH_LLM_API_KEY).
        timeout: seconds to wait for one answer.
        max_attempts: requests per figure at most, counting transport retries and re-asks.
        backoff: seconds before the first transport retry; doubles each time (capped at
            ``max_backoff``); a longer HTTP Retry-After is honoured up to the cap.
        temperature, max_tokens: sampling settings sent with each request.
        json_mode: send ``response_format: {"type": "json_object"}``; turn off for servers
            that reject it.
        sleep: how to wait (tests pass a no-op).

    Raises:
        DescriptionBackendError: no base URL or no model.
    """

    name = "openai"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        timeout: float = 120.0,
        max_attempts: int = 4,
        backoff: float = 2.0,
        max_backoff: float = 60.0,
        temperature: float = 0.7,
        max_tokens: int = 1500,
        json_mode: bool = True,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        env_url, env_model = configured_endpoint()
        self.base_url = (base_url or env_url).strip().rstrip("/")
        self.model = (model or env_model).strip()
        self._api_key = api_key if api_key is not None else os.environ.get(ENV_API_KEY, "")
        if not self.base_url:
            raise DescriptionBackendError(
                f"the openai backend needs a base URL: pass base_url (--base-url) or set "
                f"{ENV_BASE_URL}, e.g. http://localhost:8000/v1"
            )
        if not self.model:
            raise DescriptionBackendError(
                f"the openai backend needs a model name: pass model (--model) or set {ENV_MODEL}"
            )
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self.timeout, self.max_attempts = timeout, max_attempts
        self.backoff, self.max_backoff = backoff, max_backoff
        self.temperature, self.max_tokens, self.json_mode = temperature, max_tokens, json_mode
        self._sleep = sleep

    @property
    def url(self) -> str:
        """The chat-completions URL requests go to."""
        if self.base_url.endswith("/chat/completions"):
            return self.base_url
        return f"{self.base_url}/chat/completions"

    def _who(self) -> str:
        return f"openai model {self.model!r} at {self.url}"

    def _complete(self, messages: list[Message]) -> str:
        try:
            with urllib.request.urlopen(self._request(messages), timeout=self.timeout) as response:
                payload = response.read()
        except urllib.error.HTTPError as exc:
            raise _http_error(exc, self.url, self.json_mode) from exc
        except (
            urllib.error.URLError,
            TimeoutError,
            ConnectionError,
            http.client.HTTPException,
        ) as exc:
            reason = getattr(exc, "reason", exc)
            raise BackendUnavailableError(f"{self.url} could not be reached: {reason}") from exc
        return _message_content(payload, self.url)

    def _request(self, messages: list[Message]) -> urllib.request.Request:
        body: dict[str, object] = {
            "model": self.model,
            "messages": messages,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }
        if self.json_mode:
            body["response_format"] = {"type": "json_object"}
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": "patentsearch-describe",
        }
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        data = json.dumps(body).encode("utf-8")
        return urllib.request.Request(self.url, data=data, headers=headers, method="POST")

    def _wait(self, attempt: int, error: BackendUnavailableError) -> None:
        delay = self.backoff * 2 ** (attempt - 1)
        if error.retry_after is not None:
            delay = max(delay, error.retry_after)
        self._sleep(min(delay, self.max_backoff))


def _http_error(exc: urllib.error.HTTPError, url: str, json_mode: bool) -> DescriptionBackendError:
    body = _excerpt(exc.read())
    message = f"{url} answered HTTP {exc.code}: {body}"
    if exc.code in _TRANSIENT_STATUS:
        return BackendUnavailableError(message, _retry_after(exc.headers.get("Retry-After")))
    if exc.code == 400 and json_mode:
        message += " (if the server rejects response_format, turn JSON mode off: --no-json-mode)"
    return DescriptionBackendError(message)


def _message_content(payload: bytes, url: str) -> str:
    try:
        reply = json.loads(payload)
        choice = reply["choices"][0]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise DescriptionBackendError(
            f"{url} did not answer with a chat completion: {_excerpt(payload)}"
        ) from exc
    content = (choice.get("message") or {}).get("content")
    if not isinstance(content, str) or not content.strip():
        reason = choice.get("finish_reason", "unknown")
        raise DescriptionFormatError(f"the model returned no text (finish_reason={reason})")
    return content


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _excerpt(data: bytes, limit: int = 300) -> str:
    text = " ".join(data.decode("utf-8", errors="replace").split())
    return text if len(text) <= limit else text[:limit] + "..."
