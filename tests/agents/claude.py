"""Stand-in for `claude -p ... --output-format stream-json --verbose`: a real process printing a
Claude-Code-shaped run. FAKE_CLAUDE_MODE picks the behaviour:
ok (default) | hang-after (result, then never exits, a child holding stdout) | hang-before |
error (an is_error result) | leak (prints ANTHROPIC_API_KEY to stderr first) | denied (an error
line on stderr, and a result listing a permission denial).
It writes the prompt to agent_output.txt in its cwd and a report to $SWARM_REPORT if set.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time


def emit(event: dict[str, object]) -> None:
    print(json.dumps(event), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-p", dest="prompt", required=True)
    parser.add_argument("--model", default="claude-sonnet-5-5")
    parser.add_argument("--max-budget-usd", default="")
    parser.add_argument("--output-format", default="text")
    args, _ = parser.parse_known_args()
    mode = os.environ.get("FAKE_CLAUDE_MODE", "ok")
    assert sys.stdin.read() == "", "stdin must be closed"
    if mode == "leak":
        print("debug: key=" + os.environ.get("ANTHROPIC_API_KEY", ""), file=sys.stderr, flush=True)
    emit(
        {
            "type": "system",
            "subtype": "init",
            "model": args.model,
            "cwd": os.getcwd(),
            "budget": args.max_budget_usd,
            "output_format": args.output_format,
        }
    )
    if mode == "hang-before":
        time.sleep(120)
    with open("agent_output.txt", "w", encoding="utf-8") as out:
        out.write(args.prompt)
    emit(
        {
            "type": "assistant",
            "message": {
                "role": "assistant",
                "content": [{"type": "text", "text": "I wrote agent_output.txt"}],
            },
        }
    )
    if os.environ.get("SWARM_REPORT"):
        with open(os.environ["SWARM_REPORT"], "w", encoding="utf-8") as report:
            report.write("**Status:** done\n\n## Summary\n\nwrote agent_output.txt\n")
    if mode == "denied":
        print("API Error: 401 invalid x-api-key", file=sys.stderr, flush=True)
    emit(
        {
            "type": "result",
            "permission_denials": [
                {
                    "tool_name": "Write",
                    "tool_use_id": "t1",
                    "tool_input": {"file_path": "/repo/.git/wt/src/a.py"},
                }
            ]
            if mode == "denied"
            else [],
            "subtype": "error_during_execution" if mode == "error" else "success",
            "is_error": mode == "error",
            "result": "tool crashed" if mode == "error" else "done",
            "total_cost_usd": 0.0425,
            "usage": {
                "input_tokens": 1200,
                "output_tokens": 340,
                "cache_creation_input_tokens": 500,
                "cache_read_input_tokens": 7000,
            },
        }
    )
    if mode == "hang-after":
        child = subprocess.Popen(["sleep", "120"])  # inherits stdout: holds the pipe open
        emit({"type": "system", "subtype": "child", "pid": child.pid})
        time.sleep(120)


if __name__ == "__main__":
    main()
