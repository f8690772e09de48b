"""A real HTTP server on loopback that speaks the chat-completions protocol, for backend tests.

It answers from a script: each request takes the next reply (the last one repeats), and every
request is recorded with its path, headers and JSON body.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer: a chat completion with ``content``, or a raw status and body."""

    content: str | None = None
    status: int = 200
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def payload(self) -> bytes:
        if self.body is not None:
            return self.body.encode()
        completion = {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "model": "test-model",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": self.content},
                }
            ],
        }
        return json.dumps(completion).encode()


def good(texts: list[str]) -> Reply:
    return Reply(content=json.dumps({"descriptions": texts}))


@dataclass
class ChatServer:
    url: str
    script: list[Reply]
    requests: list[dict[str, Any]] = field(default_factory=list)

    def next_reply(self) -> Reply:
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]


@contextmanager
def chat_server(*script: Reply) -> Iterator[ChatServer]:
    """A server on 127.0.0.1 (free port) answering with ``script``; base URL ends in /v1."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    state = ChatServer(url=f"http://127.0.0.1:{server.server_address[1]}/v1", script=list(script))
    server.state = state  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        state: ChatServer = self.server.state  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"null")
        state.requests.append({"path": self.path, "headers": dict(self.headers), "json": body})
        reply = state.next_reply()
        if reply.delay:
            threading.Event().wait(reply.delay)
        data = reply.payload()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass
