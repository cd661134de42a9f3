"""Stand-in for `aider --message-file F ...`: prints aider's token and cost lines."""
from __future__ import annotations

import argparse


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--message-file", required=True)
    parser.add_argument("--no-auto-commits", action="store_true")
    args, _ = parser.parse_known_args()
    assert args.no_auto_commits, "the orchestrator commits, not aider"
    with open(args.message_file, encoding="utf-8") as brief, open(
        "agent_output.txt", "w", encoding="utf-8"
    ) as out:
        out.write(brief.read())
    print("Tokens: 2.1k sent, 300 received. Cost: $0.01 message, $0.01 session.", flush=True)
    print("Applied edit to agent_output.txt", flush=True)
    print("Tokens: 3,400 sent, 1.2k received. Cost: $0.02 message, $0.03 session.", flush=True)


if __name__ == "__main__":
    main()
