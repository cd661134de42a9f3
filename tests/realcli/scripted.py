"""A protocol-neutral scripted model server for driving real agent CLIs in tests.

A test scripts each conversation as `Turn`s (text, tool calls, token usage, or an HTTP error);
a `Protocol` renders them in one API's wire format (OpenAI Responses, Chat Completions, Gemini).
Conversations are told apart by a key the test picks (say the task id in the brief): a request
takes the next turn of the first script whose key occurs in its body, so tasks running in
parallel each get their own script. Every request is recorded. Requests a protocol marks as
auxiliary (a title or next-speaker check) get a fixed small answer and no turn. When a script
runs out, or no script matches, the server answers 400 so the test sees the extra call.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol

from tests.local_http import LocalServer, QuietHandler, running, send_events, send_json

Json = dict[str, Any]


@dataclass(frozen=True)
class Call:
    """One tool call: JSON arguments, or free-form text for a free-form tool (Codex's patch)."""

    name: str
    args: Json | str


@dataclass(frozen=True)
class Tokens:
    """The usage the server reports for one turn (cached tokens are part of `input`)."""

    input: int = 100
    output: int = 20
    cached: int = 0


@dataclass(frozen=True)
class Turn:
    """One scripted model answer, or (status >= 400) an error response."""

    text: str = ""
    calls: tuple[Call, ...] = ()
    tokens: Tokens = field(default_factory=Tokens)
    status: int = 200

    @staticmethod
    def say(text: str, tokens: Tokens | None = None) -> Turn:
        return Turn(text=text, tokens=tokens or Tokens())

    @staticmethod
    def call(name: str, args: Json | str, tokens: Tokens | None = None) -> Turn:
        return Turn(calls=(Call(name, args),), tokens=tokens or Tokens())

    @staticmethod
    def error(status: int, message: str = "scripted error") -> Turn:
        return Turn(text=message, status=status)


@dataclass(frozen=True)
class Request:
    """One request the server received (`turn` is False for auxiliary and unrouted calls)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Json
    raw: str
    turn: bool = False


@dataclass(frozen=True)
class Reply:
    """What a protocol answers: a JSON body, or server-sent events (`events` set)."""

    status: int = 200
    body: Json | None = None
    events: tuple[tuple[str | None, Json | str], ...] | None = None  # str: sent as is


class WireProtocol(Protocol):
    def is_turn(self, method: str, path: str, body: Json) -> bool:
        """True for a request that takes a scripted turn."""
        ...

    def aux(self, method: str, path: str, body: Json) -> Reply | None:
        """The fixed answer to an auxiliary request, or None when it is not one."""
        ...

    def render(self, turn: Turn, path: str, body: Json) -> Reply:
        """A scripted turn (status < 400) in the wire format."""
        ...

    def error(self, status: int, message: str) -> Reply: ...


class ScriptedServer(LocalServer):
    """A threaded HTTP server on 127.0.0.1 (an ephemeral port) replaying scripted turns."""

    def __init__(self, protocol: WireProtocol) -> None:
        self.protocol = protocol
        self.requests: list[Request] = []
        self._scripts: dict[str, list[Turn]] = {}
        self._lock = threading.Lock()
        super().__init__(_handler_for(self))

    def script(self, key: str, *turns: Turn) -> None:
        """Append turns to the conversation whose requests contain `key`."""
        with self._lock:
            self._scripts.setdefault(key, []).extend(turns)

    def remaining(self, key: str) -> int:
        with self._lock:
            return len(self._scripts.get(key, ()))

    def turn_requests(self, key: str | None = None) -> list[Request]:
        """The recorded requests that took a turn (of the `key` script, when given)."""
        return [r for r in self.requests if r.turn and (key is None or key in r.raw)]

    def _answer(self, method: str, path: str, headers: dict[str, str], raw: str) -> Reply:
        try:
            body = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            body = {}
        with self._lock:
            if aux := self.protocol.aux(method, path, body):
                self.requests.append(Request(method, path, headers, body, raw))
                return aux
            if not self.protocol.is_turn(method, path, body):
                self.requests.append(Request(method, path, headers, body, raw))
                return self.protocol.error(404, f"no route {method} {path}")
            self.requests.append(Request(method, path, headers, body, raw, turn=True))
            key = next((k for k in self._scripts if k in raw), None)
            if key is None:
                return self.protocol.error(400, "no test script matches this request")
            if not self._scripts[key]:
                return self.protocol.error(400, f"the test script {key!r} has no more turns")
            turn = self._scripts[key].pop(0)
        if turn.status >= 400:
            return self.protocol.error(turn.status, turn.text)
        return self.protocol.render(turn, path, body)


def serve(protocol: WireProtocol) -> Iterator[ScriptedServer]:
    """A started server, stopped when the generator closes (for fixtures)."""
    yield from running(ScriptedServer(protocol))


def _handler_for(server: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def _any(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length).decode(errors="replace") if length else ""
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = server._answer(self.command, self.path, headers, raw)
            if reply.events is None:
                send_json(self, reply.status, reply.body or {})
            else:
                send_events(self, reply.status, reply.events)

        do_GET = do_POST = _any

    return Handler
