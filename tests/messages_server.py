"""A local stand-in for the Anthropic Messages API that replays scripted turns.

`POST /v1/messages` answers in JSON, or as server-sent events when the request says
`"stream": true`, in the shapes the anthropic SDK and the Claude Code CLI parse. Each scripted
`Turn` is either a reply (content blocks, stop reason, usage) or an HTTP error (429, 529, …)
with the API's error JSON. Every request is recorded, so tests can assert what the client sent
(tool results, cache_control, headers). `POST /v1/messages/count_tokens` answers a rough count.

When the script runs out the server answers 400, so a test sees the extra call. For agents
running in parallel, `script_for(marker, ...)` keeps a separate script for the requests whose
messages contain `marker` (e.g. the brief's `# Task T02:`).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from tests.local_http import LocalServer, QuietHandler, running, send_events, send_json

Json = dict[str, Any]

_REQUEST_ID = ("request-id", "req_test")
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def text(value: str) -> Json:
    """A text content block."""
    return {"type": "text", "text": value}


_tool_ids = itertools.count(1)


def tool_use(name: str, tool_input: Json, id: str | None = None) -> Json:
    """A tool_use content block with a fresh id unless one is given."""
    return {"type": "tool_use", "id": id or f"toolu_{next(_tool_ids):04d}", "name": name, "input": tool_input}


@dataclass(frozen=True)
class Turn:
    """One scripted answer: a reply, or (status >= 400) an error response."""

    content: tuple[Json, ...] = ()
    stop_reason: str | None = None  # default: tool_use when content has a tool_use, else end_turn
    usage: Json = field(default_factory=lambda: {"input_tokens": 10, "output_tokens": 5})
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0  # seconds to wait before answering

    @staticmethod
    def reply(
        *blocks: Json,
        usage: Json | None = None,
        stop_reason: str | None = None,
        delay: float = 0.0,
    ) -> Turn:
        usage = usage or {"input_tokens": 10, "output_tokens": 5}
        return Turn(tuple(blocks), stop_reason, usage, delay=delay)

    @staticmethod
    def error(status: int, retry_after_ms: int = 1) -> Turn:
        """An API error; `retry-after-ms` keeps the SDK's own retry wait short."""
        return Turn(status=status, headers=(("retry-after-ms", str(retry_after_ms)),))


@dataclass(frozen=True)
class Request:
    """One request the server received."""

    path: str
    headers: dict[str, str]
    body: Json


class MessagesServer(LocalServer):
    """A threaded HTTP server on 127.0.0.1 (an ephemeral port) replaying `turns` in order."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._turns: list[Turn] = []
        self._routes: dict[str, list[Turn]] = {}
        self._lock = threading.Lock()
        super().__init__(_handler_for(self))

    def script(self, *turns: Turn) -> None:
        """Append turns to the script."""
        with self._lock:
            self._turns.extend(turns)

    def script_for(self, marker: str, *turns: Turn) -> None:
        """Append turns to the script of the requests whose messages contain `marker`."""
        with self._lock:
            self._routes.setdefault(marker, []).extend(turns)

    @property
    def remaining(self) -> int:
        with self._lock:
            return len(self._turns) + sum(map(len, self._routes.values()))

    def message_requests(self) -> list[Request]:
        """The recorded `POST /v1/messages` requests, in order (each consumed a turn)."""
        return [r for r in self.requests if r.path == "/v1/messages"]

    def _record(self, request: Request) -> Turn | None:
        """Record a request; the next turn for a `/v1/messages` call."""
        with self._lock:
            self.requests.append(request)
            if request.path != "/v1/messages":
                return None
            turns = self._script_of(request)
            if not turns:
                return Turn(status=400, content=(text("the test script has no more turns"),))
            return turns.pop(0)

    def _script_of(self, request: Request) -> list[Turn]:
        messages = json.dumps(request.body.get("messages"))
        return next((turns for marker, turns in self._routes.items() if marker in messages), self._turns)


@pytest.fixture
def messages_server() -> Iterator[MessagesServer]:
    """A started MessagesServer with an empty script, stopped after the test."""
    yield from running(MessagesServer())


def _handler_for(server: MessagesServer) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            body = json.loads(raw or b"{}")
            path = self.path.split("?", 1)[0]
            request = Request(path, {k.lower(): v for k, v in self.headers.items()}, body)
            turn = server._record(request)
            if path == "/v1/messages/count_tokens":
                self._json(200, {"input_tokens": max(1, len(raw) // 4)})
                return
            if path != "/v1/messages":
                self._json(404, _error_body(404, f"no route {path}"))
                return
            assert turn is not None
            time.sleep(turn.delay)
            if turn.status >= 400:
                message = turn.content[0]["text"] if turn.content else f"scripted {turn.status}"
                self._json(turn.status, _error_body(turn.status, message), turn.headers)
            elif body.get("stream"):
                self._sse(_message(turn, body))
            else:
                self._json(200, _message(turn, body))

        def do_GET(self) -> None:
            self._json(404, _error_body(404, f"no route {self.path}"))

        def _json(self, status: int, payload: Json, headers: tuple[tuple[str, str], ...] = ()) -> None:
            send_json(self, status, payload, (_REQUEST_ID, *headers))

        def _sse(self, message: Json) -> None:
            send_events(self, 200, _stream_events(message), (_REQUEST_ID,))

    return Handler


def _error_body(status: int, message: str) -> Json:
    return {
        "type": "error",
        "error": {"type": _ERROR_TYPES.get(status, "api_error"), "message": message},
    }


_message_ids = itertools.count(1)


def _message(turn: Turn, body: Json) -> Json:
    has_tool = any(block.get("type") == "tool_use" for block in turn.content)
    usage = {
        "input_tokens": 0,
        "output_tokens": 0,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        **turn.usage,
    }
    return {
        "id": f"msg_{next(_message_ids):06d}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "claude-test"),
        "content": list(turn.content),
        "stop_reason": turn.stop_reason or ("tool_use" if has_tool else "end_turn"),
        "stop_sequence": None,
        "usage": usage,
    }


def _stream_events(message: Json) -> Iterator[tuple[str, Json]]:
    """The SSE events of one message, as the API streams them."""
    usage = message["usage"]
    start = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
    yield "message_start", {"type": "message_start", "message": start}
    yield "ping", {"type": "ping"}
    for index, block in enumerate(message["content"]):
        if block["type"] == "tool_use":
            empty: Json = {**block, "input": {}}
            delta: Json = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        else:
            empty = {**block, "text": ""}
            delta = {"type": "text_delta", "text": block["text"]}
        yield "content_block_start", {"type": "content_block_start", "index": index, "content_block": empty}
        yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
            "usage": {"output_tokens": usage["output_tokens"]},
        },
    )
    yield "message_stop", {"type": "message_stop"}
