import socket

import pytest

from retrieval.ml.describe import (
    BackendUnavailableError,
    DescriptionBackendError,
    DescriptionCache,
    DescriptionFormatError,
    describe_cached,
    make_backend,
)
from retrieval.ml.describe.openai_backend import OpenAIBackend
from tests.retrieval.ml.describe.chat_server import Reply, chat_server, good

pytestmark = pytest.mark.ml

METADATA = {
    "object_name": "mobile phone",
    "viewpoint": "front",
    "caption": "FIG. 1 is a front view.",
    "locarno_class": "14-03",
    "us_class": "D14/138",
}
TEXTS = [
    "Mobile phone, smartphone or cellular handset shown in a front view.",
    "Front view of a slim rectangular smartphone with a large flat display.",
]


def _backend(url: str, sleeps: list[float] | None = None, **options: object) -> OpenAIBackend:
    defaults: dict[str, object] = {
        "model": "test-model",
        "api_key": "sekrit",
        "max_attempts": 3,
        "backoff": 0.01,
        "timeout": 5.0,
    }
    sink = sleeps if sleeps is not None else []
    return OpenAIBackend(base_url=url, sleep=sink.append, **(defaults | options))  # type: ignore[arg-type]


def test_request_carries_model_persona_metadata_and_key() -> None:
    with chat_server(good(TEXTS)) as server:
        assert _backend(server.url).describe(METADATA, 2) == TEXTS
    (request,) = server.requests
    body, headers = request["json"], request["headers"]
    assert request["path"] == "/v1/chat/completions"
    assert headers["Authorization"] == "Bearer sekrit"
    assert body["model"] == "test-model" and body["response_format"] == {"type": "json_object"}
    system, user = body["messages"]
    assert system["role"] == "system" and "patent examiner" in system["content"]
    assert user["role"] == "user"
    for value in METADATA.values():
        assert value in user["content"]


def test_malformed_answer_is_sent_back_and_asked_again() -> None:
    with chat_server(Reply(content="Here are two nice descriptions!"), good(TEXTS)) as server:
        assert _backend(server.url).describe(METADATA, 2) == TEXTS
    assert len(server.requests) == 2
    retry = server.requests[1]["json"]["messages"]
    assert retry[-2] == {"role": "assistant", "content": "Here are two nice descriptions!"}
    assert "not JSON" in retry[-1]["content"] and retry[-1]["role"] == "user"


def test_server_error_is_retried_after_a_backoff() -> None:
    sleeps: list[float] = []
    with chat_server(Reply(status=500, body="overloaded"), good(TEXTS)) as server:
        assert _backend(server.url, sleeps).describe(METADATA, 2) == TEXTS
    assert len(server.requests) == 2 and sleeps == [0.01]


def test_rate_limit_waits_as_long_as_retry_after_says() -> None:
    sleeps: list[float] = []
    limited = Reply(status=429, body="slow down", headers={"Retry-After": "7"})
    with chat_server(limited, good(TEXTS)) as server:
        assert _backend(server.url, sleeps).describe(METADATA, 2) == TEXTS
    assert sleeps == [7.0]


def test_always_malformed_fails_clearly_after_max_attempts() -> None:
    with (
        chat_server(good(TEXTS[:1])) as server,
        pytest.raises(DescriptionFormatError) as failure,
    ):
        _backend(server.url).describe(METADATA, 2)
    assert len(server.requests) == 3
    message = str(failure.value)
    assert (
        "'test-model'" in message
        and "3 attempt" in message
        and "expected 2 descriptions, got 1" in message
    )


def test_server_that_stays_down_raises_unavailable() -> None:
    sleeps: list[float] = []
    with (
        chat_server(Reply(status=503, body="maintenance")) as server,
        pytest.raises(BackendUnavailableError, match="HTTP 503"),
    ):
        _backend(server.url, sleeps).describe(METADATA, 2)
    assert len(server.requests) == 3 and sleeps == [0.01, 0.02]


def test_unreachable_server_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the request: nothing listens
    with pytest.raises(BackendUnavailableError, match="could not be reached"):
        _backend(f"http://127.0.0.1:{port}/v1", max_attempts=2).describe(METADATA, 2)


def test_slow_server_times_out_as_unavailable() -> None:
    with (
        chat_server(Reply(content="late", delay=1.0)) as server,
        pytest.raises(BackendUnavailableError),
    ):
        _backend(server.url, timeout=0.2, max_attempts=1).describe(METADATA, 2)


def test_rejected_key_fails_at_once_without_retrying() -> None:
    with (
        chat_server(Reply(status=401, body='{"error": "bad key"}')) as server,
        pytest.raises(DescriptionBackendError, match="HTTP 401") as failure,
    ):
        _backend(server.url).describe(METADATA, 2)
    assert not isinstance(failure.value, BackendUnavailableError)
    assert len(server.requests) == 1


def test_reply_that_is_not_a_chat_completion_is_a_backend_error() -> None:
    with (
        chat_server(Reply(body="<html>proxy login</html>")) as server,
        pytest.raises(DescriptionBackendError, match="did not answer with a chat completion"),
    ):
        _backend(server.url).describe(METADATA, 2)


def test_cache_answers_the_second_time_without_a_request(tmp_path) -> None:
    with chat_server(good(TEXTS)) as server:
        backend = _backend(server.url)
        first = describe_cached(backend, METADATA, 2, DescriptionCache(tmp_path / "cache.jsonl"))
        again = describe_cached(backend, METADATA, 2, DescriptionCache(tmp_path / "cache.jsonl"))
    assert first == (TEXTS, False) and again == (TEXTS, True)
    assert len(server.requests) == 1


def test_configuration_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATENTSEARCH_LLM_BASE_URL", "http://127.0.0.1:9/v1/")
    monkeypatch.setenv("PATENTSEARCH_LLM_MODEL", "qwen")
    monkeypatch.delenv("PATENTSEARCH_LLM_API_KEY", raising=False)
    backend = make_backend("openai", timeout=None)
    assert (backend.model, backend.url) == ("qwen", "http://127.0.0.1:9/v1/chat/completions")
    monkeypatch.delenv("PATENTSEARCH_LLM_MODEL")
    with pytest.raises(DescriptionBackendError, match="PATENTSEARCH_LLM_MODEL"):
        make_backend("openai")


def test_factory_rejects_unknown_backends_and_options() -> None:
    with pytest.raises(ValueError, match="unknown description backend 'gpt'"):
        make_backend("gpt")
    with pytest.raises(ValueError, match="takes no option base_url"):
        make_backend("offline", base_url="http://x")
