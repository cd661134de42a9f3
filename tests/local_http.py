"""The HTTP plumbing of the tests' stand-in model servers (tests/messages_server.py,
tests/realcli/scripted.py): a threaded server on 127.0.0.1 at an ephemeral port, and the two
ways they answer, a JSON body or server-sent events."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self, TypeVar

Headers = Iterable[tuple[str, str]]


class QuietHandler(BaseHTTPRequestHandler):
    """The base of the servers' handlers: HTTP/1.1 (keep-alive), no request log on stderr."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients dropping keep-alive connections is normal; anything else is printed."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LocalServer:
    """Serves `handler` from a daemon thread once started; `url` is its address. The model
    servers subclass it, passing a handler bound to themselves."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = _QuietServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


Server = TypeVar("Server", bound=LocalServer)


def running(server: Server) -> Iterator[Server]:
    """`server` started, stopped when the generator closes (for fixtures: `yield from`)."""
    server.start()
    try:
        yield server
    finally:
        server.stop()


def send_json(handler: BaseHTTPRequestHandler, status: int, payload: Any, headers: Headers = ()) -> None:
    """Answer with `payload` as a JSON body."""
    data = json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("content-type", "application/json")
    handler.send_header("content-length", str(len(data)))
    for name, value in headers:
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


def send_events(
    handler: BaseHTTPRequestHandler,
    status: int,
    events: Iterable[tuple[str | None, Any]],
    headers: Headers = (),
) -> None:
    """Answer with server-sent events, (name or None, data: JSON, or a str sent as is), then
    close the connection."""
    handler.send_response(status)
    handler.send_header("content-type", "text/event-stream")
    handler.send_header("cache-control", "no-cache")
    handler.send_header("connection", "close")
    for name, value in headers:
        handler.send_header(name, value)
    handler.end_headers()
    handler.close_connection = True
    for event, data in events:
        head = f"event: {event}\n" if event else ""
        body = data if isinstance(data, str) else json.dumps(data)
        handler.wfile.write(f"{head}data: {body}\n\n".encode())
        handler.wfile.flush()
