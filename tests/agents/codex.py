"""Stand-in for `codex exec --json PROMPT`: JSONL events with per-turn token usage."""

from __future__ import annotations

import json
import sys


def main() -> None:
    prompt = sys.argv[-1]
    assert "--json" in sys.argv, "the preset asks for JSON events"
    with open("agent_output.txt", "w", encoding="utf-8") as out:
        out.write(prompt)
    for event in (
        {"type": "thread.started", "thread_id": "th_1"},
        {"type": "turn.started"},
        {"type": "item.completed", "item": {"type": "agent_message", "text": "done"}},
        {
            "type": "turn.completed",
            "usage": {"input_tokens": 5000, "cached_input_tokens": 3000, "output_tokens": 800},
        },
    ):
        print(json.dumps(event), flush=True)


if __name__ == "__main__":
    main()
