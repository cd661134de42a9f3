"""Codex (npm `@openai/codex`): `codex exec --json`, its own sandbox off, inside swarmgit's fence.

Codex's workspace-write sandbox (bubblewrap) cannot start inside swarmgit's write fence: it
needs a user namespace and writes `/proc/self/uid_map`, which a Landlock fence refuses, and its
legacy Landlock mode refuses to run without bubblewrap (measured with 0.171). So Codex runs with
`--sandbox danger-full-access` (commands without asking, as `exec` always does) and the fence
confines what it and its commands write; where the kernel has no Landlock nothing does (see
`agent.sandbox`). Edit-time scope: `swarmgit.backends.scope_hook` as a PreToolUse hook (`-c
hooks.PreToolUse=…`, trusted for the run with `--dangerously-bypass-hook-trust`: swarmgit wrote
it) refuses an `apply_patch` naming a file outside the task's touches and shell commands that
visibly write outside them; Codex shows the model the reason. The task's model goes to
`--model`. Codex 0.17x ignores `OPENAI_BASE_URL`, so when it is set the preset declares it as a
Responses API provider (`-c model_providers.swarm=…`, key from `OPENAI_API_KEY`). State lives in
`$CODEX_HOME` (default `~/.codex`). Each `turn.completed` event carries token usage
(`input_tokens` counts the cached ones too); there is no cost: it is priced from `[pricing]`.
`error` events are retries in progress ("Reconnecting… 2/5"); only `turn.failed` fails the task,
with the last error message as its reason. Codex takes no test command: `gates.test_command` goes into its
prompt.
"""

from __future__ import annotations

import json

from swarmgit.backends.base import AgentJob, Usage
from swarmgit.backends.clis.base import JsonEventParser, Preset, count, json_event, mapping, prompt_file
from swarmgit.backends.scope_hook import hook_command


class CodexParser(JsonEventParser):
    label = "Codex: "
    keep_latest = True  # retries repeat errors: the last ones explain the end

    def feed(self, line: str) -> bool:
        event = json_event(line)
        kind = event.get("type") if event else None
        if event is None:
            return False
        if kind == "turn.completed":
            usage = mapping(event.get("usage"))
            cached = count(usage.get("cached_input_tokens"))
            self._usage.append(
                Usage(
                    model=self._model,
                    input_tokens=max(0, count(usage.get("input_tokens")) - cached),
                    output_tokens=count(usage.get("output_tokens")),
                    cache_write_tokens=count(usage.get("cache_write_input_tokens")),
                    cache_read_tokens=cached,
                )
            )
        elif kind == "error":
            self._remark(str(event.get("message") or "error"))
        elif kind == "turn.failed":
            message = str(mapping(event.get("error")).get("message") or "")
            self.error = message or (self._remarks[-1] if self._remarks else "turn failed")
        return False


_PROVIDER = (
    '{name=\\"swarm\\",base_url=\\"$OPENAI_BASE_URL\\",env_key=\\"OPENAI_API_KEY\\",wire_api=\\"responses\\"}'
)


def prepare(job: AgentJob) -> dict[str, str]:
    """The scope hook as Codex's PreToolUse hooks, a TOML value for `-c` ({codex_hooks}); the
    prompt ({prompt_file})."""
    command = json.dumps(hook_command(job, "--codex"))  # a JSON string is a TOML basic string
    return {
        "codex_hooks": f'[{{matcher="^(apply_patch|Bash)$", hooks=[{{type="command", command={command}}}]}}]',
        "prompt_file": prompt_file(job, "codex"),
    }


PRESET = Preset(
    name="codex",
    command=(
        "codex exec --json --sandbox danger-full-access --model {model}"
        " --dangerously-bypass-hook-trust -c hooks.PreToolUse={codex_hooks}"
        f' ${{OPENAI_BASE_URL:+-c model_provider=swarm -c "model_providers.swarm={_PROVIDER}"}}'
        ' "$(cat {prompt_file})"'
    ),
    parser=CodexParser,
    prepare=prepare,
)
