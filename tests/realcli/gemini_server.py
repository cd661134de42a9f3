"""Gemini's API as Gemini CLI uses it, for the scripted server.

The agent loop streams: `POST /v1beta/models/<model>:streamGenerateContent?alt=sse` takes a
scripted turn and answers server-sent `GenerateContentResponse` chunks (text and
`functionCall` parts, then `usageMetadata`: `promptTokenCount` including
`cachedContentTokenCount`, `candidatesTokenCount`). The CLI's side calls are auxiliary and take
no turn: `:generateContent` (its next-speaker check and model router, which ask for JSON) gets a
fixed JSON answer saying the user speaks next, `:countTokens` a rough count.
"""

from __future__ import annotations

import json

from tests.realcli.scripted import Json, Reply, Turn

_AUX_ANSWER = {"reasoning": "scripted test", "next_speaker": "user", "model_choice": "flash"}
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def _method(path: str) -> str:
    return path.split("?", 1)[0].rsplit(":", 1)[-1]


def _response(parts: list[Json], finish: str | None, usage: Json, model: str) -> Json:
    candidate: Json = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": model}


class GeminiProtocol:
    def is_turn(self, method: str, path: str, body: Json) -> bool:
        return method == "POST" and _method(path) == "streamGenerateContent"

    def aux(self, method: str, path: str, body: Json) -> Reply | None:
        if method != "POST":
            return None
        if _method(path) == "countTokens":
            return Reply(200, {"totalTokens": max(1, len(json.dumps(body)) // 4)})
        if _method(path) == "generateContent":
            usage = {"promptTokenCount": 0, "candidatesTokenCount": 0, "totalTokenCount": 0}
            return Reply(200, _response([{"text": json.dumps(_AUX_ANSWER)}], "STOP", usage, "aux"))
        return None

    def error(self, status: int, message: str) -> Reply:
        return Reply(
            status,
            {"error": {"code": status, "message": message, "status": _STATUS_NAMES.get(status, "UNKNOWN")}},
        )

    def render(self, turn: Turn, path: str, body: Json) -> Reply:
        model = path.split("/models/", 1)[-1].split(":", 1)[0]
        tokens = turn.tokens
        usage = {
            "promptTokenCount": tokens.input,
            "candidatesTokenCount": tokens.output,
            "cachedContentTokenCount": tokens.cached,
            "totalTokenCount": tokens.input + tokens.output,
        }
        parts: list[Json] = [{"text": turn.text}] if turn.text else []
        parts += [{"functionCall": {"name": c.name, "args": c.args}} for c in turn.calls]
        events: list[tuple[str | None, Json | str]] = [
            (None, _response([part], None, {}, model)) for part in parts[:-1]
        ]
        events.append((None, _response(parts[-1:], "STOP", usage, model)))
        return Reply(200, events=tuple(events))
