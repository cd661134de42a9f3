"""Stand-in for `aider --message-file F ...`: prints aider's token and cost lines; with
FAKE_AIDER_MODE=unreachable, the errors aider prints (exiting 0) when it cannot reach the model."""

from __future__ import annotations

import argparse
import os


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--message-file", required=True)
    parser.add_argument("--no-auto-commits", action="store_true")
    args, _ = parser.parse_known_args()
    assert args.no_auto_commits, "the orchestrator commits, not aider"
    if os.environ.get("FAKE_AIDER_MODE") == "unreachable":
        for _ in range(2):
            print("litellm.APIConnectionError: AnthropicException - Connection refused", flush=True)
            print("Retrying in 0.2 seconds...", flush=True)
        return
    os.makedirs(".aider.tags.cache.v4", exist_ok=True)  # as aider's repository map does
    with open(".aider.tags.cache.v4/cache.db", "w", encoding="utf-8") as cache:
        cache.write("tags")
    with (
        open(args.message_file, encoding="utf-8") as brief,
        open("agent_output.txt", "w", encoding="utf-8") as out,
    ):
        out.write(brief.read())
    print("Tokens: 2.1k sent, 300 received. Cost: $0.01 message, $0.01 session.", flush=True)
    print("Applied edit to agent_output.txt", flush=True)
    print("Unable to write file /repo/docs/x.md after 5 attempts: [Errno 13] Permission denied", flush=True)
    print("litellm.InternalServerError: overloaded", flush=True)  # then retried successfully
    print(
        "Tokens: 3,400 sent, 1.2k cache write, 500 cache hit, 1.2k received."
        " Cost: $0.02 message, $0.03 session.",
        flush=True,
    )


if __name__ == "__main__":
    main()
