"""OpenCode (npm `opencode-ai`): `opencode run --format json` in the worktree, no plugins.

Per task swarmgit hands OpenCode a config in `OPENCODE_CONFIG_CONTENT` (it outranks the user's
and the repository's config files): shell commands and reads are allowed (the write fence
confines commands), file edits (`edit`, `write`, `patch`) only on the task's touches and its
report file, so an out-of-scope edit is refused at edit time with OpenCode's own message. The
patterns are OpenCode's wildcards, where `*` also matches `/`: a glob touch is approximated
from above, and the commit-time scope check stays exact. Model ids are `provider/model`
(`anthropic/` is prefixed to a bare id). Its database and logs go to a folder of the task's own
(`XDG_DATA_HOME`, `XDG_STATE_HOME`); its config (providers) is read from `~/.config/opencode`
or `OPENCODE_CONFIG`. Each `step_finish` event carries token usage
(`input` uncached, `cache.read`/`cache.write`, `output` plus `reasoning`) and OpenCode's own
cost figure; `error` events are its errors. `gates.test_command` goes into its prompt.
"""

from __future__ import annotations

import json
import os
import re
from types import MappingProxyType

from swarmgit.backends.base import AgentJob, Usage
from swarmgit.backends.clis.base import (
    JsonEventParser,
    Preset,
    count,
    json_event,
    mapping,
    prompt_file,
    task_home,
)
from swarmgit.domain.touches import is_glob

_CLASS_RE = re.compile(r"\[[^]]*\]")


class OpenCodeParser(JsonEventParser):
    label = "OpenCode: "

    def feed(self, line: str) -> bool:
        event = json_event(line)
        if event is None or "sessionID" not in event:  # every OpenCode event names its session
            return False
        part = mapping(event.get("part"))
        kind = event.get("type")
        if kind == "step_finish":
            self._step(part)
        elif kind == "error":
            error = mapping(event.get("error"))
            data = mapping(error.get("data"))
            self.error = str(data.get("message") or error.get("name") or "error")
        elif kind == "tool_use":
            state = mapping(part.get("state"))
            if state.get("status") == "error":
                self._remark(f"{part.get('tool')}: {state.get('error')}")
        return False

    def _step(self, part: dict[str, object]) -> None:
        tokens = mapping(part.get("tokens"))
        cache = mapping(tokens.get("cache"))
        cost = part.get("cost")
        self._usage.append(
            Usage(
                model=self._model,
                input_tokens=count(tokens.get("input")),
                output_tokens=count(tokens.get("output")) + count(tokens.get("reasoning")),
                cache_write_tokens=count(cache.get("write")),
                cache_read_tokens=count(cache.get("read")),
                cost_usd=float(cost) if isinstance(cost, (int, float)) and cost else None,
            )
        )


def edit_patterns(touches: tuple[str, ...]) -> list[str]:
    """OpenCode wildcard patterns (`*` matches `/` too) covering every path of `touches`."""
    patterns: list[str] = []
    for touch in touches:
        if touch.endswith("/"):
            patterns.append(touch + "*")
        elif is_glob(touch):
            patterns.append(_CLASS_RE.sub("?", touch.replace("**/", "*").replace("**", "*")))
        else:
            patterns += [touch, touch + "/*"]
    return patterns


def config_for(job: AgentJob) -> dict[str, object]:
    """The task's OpenCode config: its permissions (see the module docstring)."""
    report = os.path.relpath(job.report_file, job.worktree)
    edit = {"*": "deny", **{p: "allow" for p in (*edit_patterns(job.task.touches), report)}}
    return {
        "autoupdate": False,
        "share": "disabled",
        "permission": {"edit": edit, "bash": "allow", "webfetch": "allow", "external_directory": "allow"},
    }


def prepare(job: AgentJob) -> dict[str, str]:
    """The task's config as JSON ({opencode_config}) and its own state folder ({opencode_home}:
    OpenCode's database is not safe to create from tasks starting at once)."""
    return {
        "opencode_config": json.dumps(config_for(job), separators=(",", ":")),
        "opencode_home": str(task_home(job, "opencode")),
        "prompt_file": prompt_file(job, "opencode"),
    }


PRESET = Preset(
    name="opencode",
    command=(
        "OPENCODE_CONFIG_CONTENT={opencode_config} XDG_DATA_HOME={opencode_home}/.local/share"
        " XDG_STATE_HOME={opencode_home}/.local/state opencode run --format json --pure"
        ' --model {model} --title {task} --dir {worktree} "$(cat {prompt_file})"'
    ),
    parser=OpenCodeParser,
    model_prefix="anthropic/",
    env=MappingProxyType(
        {
            "OPENCODE_DISABLE_AUTOUPDATE": "1",
            "OPENCODE_DISABLE_SHARE": "1",
            "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
        }
    ),
    prepare=prepare,
)
