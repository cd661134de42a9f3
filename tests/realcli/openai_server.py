"""OpenAI's wire formats for the scripted server: Responses (Codex) and Chat Completions.

Both stream as the CLIs ask (`"stream": true` → server-sent events) and report usage in the
API's own fields: Responses `usage.input_tokens` / `input_tokens_details.cached_tokens` /
`output_tokens`; Chat Completions `usage.prompt_tokens` / `prompt_tokens_details.cached_tokens`
/ `completion_tokens` (sent in the final chunk, as with `stream_options.include_usage`).
"""

from __future__ import annotations

import itertools
import json

from tests.realcli.scripted import Json, Reply, Turn

_ids = itertools.count(1)


def _error(status: int, message: str) -> Reply:
    kind = "rate_limit_exceeded" if status == 429 else "invalid_request_error"
    return Reply(status, {"error": {"message": message, "type": kind, "code": kind}})


class ResponsesProtocol:
    """`POST …/responses` (Codex): output items, then `response.completed` with usage."""

    def is_turn(self, method: str, path: str, body: Json) -> bool:
        return method == "POST" and path.split("?")[0].endswith("/responses")

    def aux(self, method: str, path: str, body: Json) -> Reply | None:
        if method == "GET" and path.split("?")[0].endswith("/models"):
            return Reply(200, {"object": "list", "data": [], "models": []})
        return None

    def error(self, status: int, message: str) -> Reply:
        return _error(status, message)

    def render(self, turn: Turn, path: str, body: Json) -> Reply:
        rid = f"resp_{next(_ids):06d}"
        items: list[Json] = []
        if turn.text:
            items.append(
                {
                    "type": "message",
                    "id": f"msg_{next(_ids):06d}",
                    "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "output_text", "text": turn.text, "annotations": []}],
                }
            )
        for call in turn.calls:
            call_id = f"call_{next(_ids):06d}"
            if isinstance(call.args, str):
                items.append(
                    {
                        "type": "custom_tool_call",
                        "id": f"ctc_{call_id}",
                        "call_id": call_id,
                        "name": call.name,
                        "input": call.args,
                        "status": "completed",
                    }
                )
            else:
                items.append(
                    {
                        "type": "function_call",
                        "id": f"fc_{call_id}",
                        "call_id": call_id,
                        "name": call.name,
                        "arguments": json.dumps(call.args),
                        "status": "completed",
                    }
                )
        tokens = turn.tokens
        response: Json = {
            "id": rid,
            "object": "response",
            "model": body.get("model", "test"),
            "status": "completed",
            "output": items,
            "usage": {
                "input_tokens": tokens.input,
                "input_tokens_details": {"cached_tokens": tokens.cached},
                "output_tokens": tokens.output,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": tokens.input + tokens.output,
            },
        }
        if not body.get("stream"):
            return Reply(200, response)
        started = {**response, "status": "in_progress", "output": [], "usage": None}
        events: list[tuple[str | None, Json | str]] = [
            ("response.created", {"type": "response.created", "response": started})
        ]
        for index, item in enumerate(items):
            events.append(
                (
                    "response.output_item.added",
                    {"type": "response.output_item.added", "output_index": index, "item": item},
                )
            )
            if item["type"] == "message":
                events.append(
                    (
                        "response.output_text.delta",
                        {
                            "type": "response.output_text.delta",
                            "item_id": item["id"],
                            "output_index": index,
                            "content_index": 0,
                            "delta": turn.text,
                        },
                    )
                )
            events.append(
                (
                    "response.output_item.done",
                    {"type": "response.output_item.done", "output_index": index, "item": item},
                )
            )
        events.append(("response.completed", {"type": "response.completed", "response": response}))
        return Reply(200, events=tuple(events))


class ChatProtocol:
    """`POST …/chat/completions`: one assistant message with text and/or tool calls."""

    def is_turn(self, method: str, path: str, body: Json) -> bool:
        return method == "POST" and path.split("?")[0].endswith("/chat/completions")

    def aux(self, method: str, path: str, body: Json) -> Reply | None:
        if method == "GET" and path.split("?")[0].endswith("/models"):
            return Reply(200, {"object": "list", "data": []})
        return None

    def error(self, status: int, message: str) -> Reply:
        return _error(status, message)

    def render(self, turn: Turn, path: str, body: Json) -> Reply:
        cid = f"chatcmpl-{next(_ids):06d}"
        calls = [
            {
                "id": f"call_{next(_ids):06d}",
                "type": "function",
                "function": {
                    "name": c.name,
                    "arguments": c.args if isinstance(c.args, str) else json.dumps(c.args),
                },
            }
            for c in turn.calls
        ]
        finish = "tool_calls" if calls else "stop"
        tokens = turn.tokens
        usage = {
            "prompt_tokens": tokens.input,
            "completion_tokens": tokens.output,
            "total_tokens": tokens.input + tokens.output,
            "prompt_tokens_details": {"cached_tokens": tokens.cached},
        }
        head: Json = {"id": cid, "created": 1, "model": body.get("model", "test")}
        if not body.get("stream"):
            message: Json = {"role": "assistant", "content": turn.text or None}
            if calls:
                message["tool_calls"] = calls
            return Reply(
                200,
                {
                    **head,
                    "object": "chat.completion",
                    "usage": usage,
                    "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                },
            )
        chunk = {**head, "object": "chat.completion.chunk"}
        events: list[tuple[str | None, Json | str]] = [
            (None, {**chunk, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})
        ]
        if turn.text:
            events.append((None, {**chunk, "choices": [{"index": 0, "delta": {"content": turn.text}}]}))
        for index, call in enumerate(calls):
            events.append(
                (
                    None,
                    {**chunk, "choices": [{"index": 0, "delta": {"tool_calls": [{"index": index, **call}]}}]},
                )
            )
        events.append((None, {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}))
        events.append((None, {**chunk, "choices": [], "usage": usage}))
        events.append((None, "[DONE]"))
        return Reply(200, events=tuple(events))
