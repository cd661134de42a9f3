"""The `claude-code` backend: the real Claude Code, headless, through `claude-agent-sdk`.

The SDK (`pip install 'swarmgit[claude-code]'`) bundles the CLI; without a bundled one it uses a
`claude` on PATH. One attempt runs with cwd = the worktree, the brief as prompt, the task's
`max_budget_usd` (job.budget_usd), max turns and wall time from config, and its own HOME,
CLAUDE_CONFIG_DIR and TMPDIR (the task's own, from its env; without a HOME there, a folder
beside the task's log), so parallel agents never share Claude Code's state and the user's own
hooks and settings stay out. With a write fence (job.fence), the CLI process runs through the
fence launcher (a wrapper given to the SDK as `cli_path`), so all it and its commands write is
confined at the OS level too. Git identity still comes
from the user's global git config (GIT_CONFIG_GLOBAL). Only key-based auth works in the
isolated home: ANTHROPIC_API_KEY (or CLAUDE_CODE_OAUTH_TOKEN / ANTHROPIC_AUTH_TOKEN).

Edit-time scope: a PreToolUse hook (it sees every tool call, whatever the permission mode)
denies file-tool writes outside the task's touches and Bash commands that visibly write outside
them (`shell_writes.scope_refusal`, which says what it can and cannot see); the task's scratch
home (HOME, TMPDIR), the report file and /dev/* stay writable.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

import anyio

from swarmgit.backends.base import AgentEvents, AgentJob, AgentOutcome, FailureKind, Usage
from swarmgit.backends.shell_writes import Scope, named_files, scope_refusal
from swarmgit.config import Config
from swarmgit.domain.cost import cost_usd, model_for
from swarmgit.domain.report import parse_report
from swarmgit.domain.secrets import secrets_from_env
from swarmgit.fsutil import read_agent_text
from swarmgit.process.home import user_gitconfig
from swarmgit.sandbox.fence import fenced_cli

INSTALL_HINT = "pip install 'swarmgit[claude-code]' (it bundles the Claude Code CLI)"
AUTH_VARS = ("ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_AUTH_TOKEN")
LOG_CHARS = 2000
SCOPE_PROMPT = """\
You work on one task of a larger plan in your own git worktree ({root}). You may change only
these paths (relative to it): {touches}. Writes anywhere else are refused; put work you find
outside them in your report's SpawnCandidates table. For scratch files use $TMPDIR.
"""

_RATE_STATUS = (429, 529)


class ClaudeCodeAgent:
    """Runs tasks with Claude Code headless. See the module docstring."""

    name = "claude-code"

    def __init__(self, config: Config, *, cli_path: str | None = None) -> None:
        self.config = config
        self.cli_path = cli_path

    def run(self, job: AgentJob, on_event: AgentEvents) -> AgentOutcome:
        env = {**os.environ, **job.env}
        try:
            import claude_agent_sdk  # noqa: F401  (an optional extra)
        except ImportError:
            return AgentOutcome(
                ok=False,
                kind=FailureKind.SETUP_FAILED,
                diagnosis=f"the claude-code backend needs {INSTALL_HINT}",
            )
        if not any(env.get(name) for name in AUTH_VARS):
            return AgentOutcome(
                ok=False,
                kind=FailureKind.SETUP_FAILED,
                diagnosis="set ANTHROPIC_API_KEY (or CLAUDE_CODE_OAUTH_TOKEN): Claude Code runs"
                " with an isolated home per task, so a stored login is not used",
            )
        job.log_file.parent.mkdir(parents=True, exist_ok=True)
        with job.log_file.open("a", encoding="utf-8") as log:
            attempt = _Attempt(self, job, env, log, on_event)
            return anyio.run(attempt.run)


class _Attempt:
    """One Claude Code session: options, the scope hook, the message stream, the outcome."""

    def __init__(
        self,
        agent: ClaudeCodeAgent,
        job: AgentJob,
        env: Mapping[str, str],
        log: TextIO,
        on_event: AgentEvents,
    ) -> None:
        self._agent = agent
        self._job = job
        self._env = env
        self._secrets = secrets_from_env(env)
        self._log = log
        self._on_event = on_event
        self._model = job.model or model_for(job.task, agent.config.agent)
        own_home = job.env.get("HOME")
        self._home = (
            Path(own_home) if own_home else job.log_file.with_name(f"{job.log_file.stem}.claude-home")
        )
        self._tmp = Path(job.env["TMPDIR"]) if own_home and job.env.get("TMPDIR") else self._home / "tmp"
        root = job.worktree.resolve()
        self._scope = Scope(
            root=root,
            touches=job.task.touches,
            cwd=root,
            scratch=(self._home.resolve(), self._tmp.resolve()),
            files=named_files(job),
        )
        self._result: Any = None
        self._report_mtime = _mtime(job.report_file)  # a report left by an earlier attempt

    async def run(self) -> AgentOutcome:
        from claude_agent_sdk import ClaudeSDKClient, ClaudeSDKError, CLINotFoundError

        self._write(f"# {self._job.task.id} attempt {self._job.attempt} on {self._model} (claude-code)")
        minutes = self._agent.config.agent.timeout_minutes
        try:
            with anyio.fail_after(minutes * 60):
                prompt = self._job.brief_file.read_text(encoding="utf-8")
                # Stop reading at the result: the CLI may hang after it. Leaving the client
                # disconnects it, which ends the CLI process (EOF, then SIGTERM, SIGKILL);
                # query()'s generator, closed early, left the process running.
                program = self._program()
                if self._job.fence is not None and program is None:
                    return self._failed(
                        FailureKind.SETUP_FAILED,
                        "no Claude Code CLI found to run under the write fence (the SDK's own search "
                        f"would start one unfenced); {INSTALL_HINT}",
                    )
                fenced = None if self._job.fence is None else fenced_cli(self._job.fence, str(program))
                with fenced or nullcontext(program) as cli_path:
                    async with ClaudeSDKClient(options=self._options(cli_path)) as client:
                        await client.query(prompt)
                        async for message in client.receive_response():
                            if self._on_message(message):
                                break
        except TimeoutError:
            return self._failed(
                FailureKind.TIMEOUT, f"no result within {minutes:g} minutes (agent.timeout_minutes)"
            )
        except CLINotFoundError as exc:
            return self._failed(
                FailureKind.SETUP_FAILED, f"Claude Code CLI not found ({exc}); {INSTALL_HINT}"
            )
        except ClaudeSDKError as exc:
            if self._result is None:  # else the CLI exited non-zero after an error result
                return self._failed(FailureKind.COMMAND_FAILED, f"Claude Code failed: {exc}")
        return self._outcome()

    def _program(self) -> str | Path | None:
        """The CLI the SDK runs: the configured one; fenced, else the one found (None: the SDK
        searches, which only an unfenced run may let it do)."""
        if self._job.fence is None:
            return self._agent.cli_path
        return self._agent.cli_path or _installed_cli()

    def _options(self, cli_path: str | Path | None) -> Any:
        from claude_agent_sdk import ClaudeAgentOptions, HookMatcher

        settings = self._agent.config.agent
        touches = ", ".join(self._job.task.touches) or "none (this task is read-only)"
        return ClaudeAgentOptions(
            cwd=str(self._scope.root),
            model=self._model,
            max_turns=settings.max_turns,
            max_budget_usd=self._job.budget_usd,
            permission_mode="bypassPermissions",
            system_prompt={
                "type": "preset",
                "preset": "claude_code",
                "append": SCOPE_PROMPT.format(root=self._scope.root, touches=touches),
            },
            hooks={"PreToolUse": [HookMatcher(matcher=None, hooks=[self._pre_tool_use], on_failure="block")]},
            setting_sources=["project"],
            env=self._session_env(),
            stderr=lambda line: self._write(f"stderr: {line}"),
            cli_path=cli_path,
        )

    def _session_env(self) -> dict[str, str]:
        """The task's env plus its isolated home; the process env is merged under it."""
        self._tmp.mkdir(parents=True, exist_ok=True)
        env = {
            **self._job.env,
            "HOME": str(self._home),
            "CLAUDE_CONFIG_DIR": str(self._home / ".claude"),
            "TMPDIR": str(self._tmp),
            "DISABLE_AUTOUPDATER": "1",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_ERROR_REPORTING": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            # each Bash command starts in the worktree, so relative targets resolve as we do
            "CLAUDE_BASH_MAINTAIN_PROJECT_WORKING_DIR": "1",
        }
        if os.geteuid() == 0:  # Claude Code refuses to skip permissions as root otherwise
            env["IS_SANDBOX"] = "1"
        if "GIT_CONFIG_GLOBAL" not in self._env and (gitconfig := user_gitconfig(self._env)):
            env["GIT_CONFIG_GLOBAL"] = str(gitconfig)
        return env

    async def _pre_tool_use(self, hook_input: Any, tool_use_id: str | None, context: Any) -> Any:
        scope = replace(self._scope, cwd=Path(hook_input.get("cwd") or self._scope.root))
        reason = scope_refusal(hook_input["tool_name"], hook_input.get("tool_input") or {}, scope)
        if reason is None:
            return {}
        self._write(f"refused {hook_input['tool_name']}: {reason}")
        self._event("scope-refused", f"{hook_input['tool_name']} refused: {reason}")
        return {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "deny",
                "permissionDecisionReason": reason,
            }
        }

    def _on_message(self, message: Any) -> bool:
        """Log and record one message; True for the final result."""
        from claude_agent_sdk import (
            AssistantMessage,
            RateLimitEvent,
            ResultMessage,
            SystemMessage,
            UserMessage,
        )

        if isinstance(message, AssistantMessage):
            for block in message.content:
                self._write(_describe(block, "assistant"))
        elif isinstance(message, UserMessage) and isinstance(message.content, list):
            for block in message.content:
                self._write(_describe(block, "result"))
        elif isinstance(message, SystemMessage) and message.subtype == "api_retry":
            status = message.data.get("error_status") or message.data.get("status") or "error"
            self._event("rate-limited", f"HTTP {status} from the API; Claude Code retries")
        elif isinstance(message, RateLimitEvent) and message.rate_limit_info.status != "allowed":
            self._event("rate-limited", f"rate limit {message.rate_limit_info.status}")
        elif isinstance(message, ResultMessage):
            self._result = message
            self._write(
                f"result: {message.subtype}, {message.num_turns} turns, ${message.total_cost_usd or 0:.4f}"
            )
            return True
        return False

    def _outcome(self) -> AgentOutcome:
        result = self._result
        if result is None:
            return self._failed(FailureKind.COMMAND_FAILED, "Claude Code ended without a result")
        report_text = self._report_text(result)
        if result.is_error:
            kind, why = _error_kind(result)
            return self._failed(kind, why, report_text)
        report = parse_report(report_text, str(self._job.report_file))[0] if report_text else None
        status = report.status if report else "done"
        if status in ("failed", "blocked"):
            return self._failed(FailureKind.reported(status), f"the agent reported {status}", report_text)
        return AgentOutcome(ok=True, usage=self._usage(), report_text=report_text, notes=self._notes())

    def _report_text(self, result: Any) -> str | None:
        """The report file the agent wrote in this attempt, else its final message."""
        report = self._job.report_file
        written = _mtime(report) != self._report_mtime
        text = read_agent_text(report)[0] if written else ""  # never crashes on its bytes
        text = text.strip() or (result.result or "").strip()
        return self._secrets.redact(text) + "\n" if text else None

    def _usage(self) -> tuple[Usage, ...]:
        result = self._result
        if result is None:
            return ()
        if result.model_usage:
            return tuple(self._model_usage(model, data) for model, data in result.model_usage.items())
        usage = result.usage or {}
        tokens = _tokens(
            self._model,
            usage.get("input_tokens"),
            usage.get("output_tokens"),
            usage.get("cache_creation_input_tokens"),
            usage.get("cache_read_input_tokens"),
        )
        return (replace(tokens, cost_usd=result.total_cost_usd or self._priced(tokens)),)

    def _model_usage(self, model: str, data: Mapping[str, Any]) -> Usage:
        tokens = _tokens(
            model,
            data.get("inputTokens"),
            data.get("outputTokens"),
            data.get("cacheCreationInputTokens"),
            data.get("cacheReadInputTokens"),
        )
        return replace(tokens, cost_usd=data.get("costUSD") or self._priced(tokens))

    def _priced(self, tokens: Usage) -> float | None:
        """Our pricing table's cost, for a CLI that reports none (a model it does not know)."""
        price = self._agent.config.pricing.get(tokens.model)
        return cost_usd(tokens, price) if price else None

    def _notes(self) -> tuple[str, ...]:
        result = self._result
        if result is None:
            return ()
        cost = result.total_cost_usd or 0.0
        return (f"{self._model} via Claude Code: {result.num_turns} turns, ${cost:.4f}",)

    def _failed(self, kind: FailureKind, diagnosis: str, report_text: str | None = None) -> AgentOutcome:
        self._write(f"stopped: {kind}: {diagnosis}")
        return AgentOutcome(
            ok=False,
            kind=kind,
            diagnosis=self._secrets.redact(diagnosis),
            usage=self._usage(),
            report_text=report_text,
            notes=self._notes(),
        )

    def _event(self, kind: str, message: str) -> None:
        self._on_event(kind, self._secrets.redact(f"{self._job.task.id}: {message}"))

    def _write(self, text: str) -> None:
        self._log.write(self._secrets.redact(text) + "\n")
        self._log.flush()


def _error_kind(result: Any) -> tuple[FailureKind, str]:
    errors = "; ".join(result.errors or []) or result.result or result.subtype
    if result.subtype == "error_max_budget_usd":
        return FailureKind.BUDGET, f"stopped at the task's budget cap: {errors}"
    if result.subtype == "error_max_turns":
        return FailureKind.MAX_TURNS, f"no result within agent.max_turns turns: {errors}"
    if result.api_error_status in _RATE_STATUS:
        return FailureKind.RATE_LIMITED, f"the API kept answering HTTP {result.api_error_status}: {errors}"
    return FailureKind.COMMAND_FAILED, f"Claude Code reported an error ({result.subtype}): {errors}"


def _tokens(model: str, *counts: Any) -> Usage:
    inp, out, write, read = (int(c or 0) for c in counts)
    return Usage(
        model=model, input_tokens=inp, output_tokens=out, cache_write_tokens=write, cache_read_tokens=read
    )


def _describe(block: Any, who: str) -> str:
    """One transcript line for a content block (truncated)."""
    kind = type(block).__name__
    if kind == "TextBlock":
        return f"{who}: {block.text[:LOG_CHARS]}"
    if kind == "ToolUseBlock":
        return f"→ {block.name} {str(block.input)[:LOG_CHARS]}"
    if kind == "ToolResultBlock":
        mark = "error" if block.is_error else "ok"
        return f"← {mark}: {str(block.content)[:LOG_CHARS]}"
    return f"{who}: [{kind}]"


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


def _installed_cli() -> str | None:
    """The Claude Code CLI the SDK would run: its bundled one, else `claude` on PATH."""
    import claude_agent_sdk

    bundled = Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"
    return str(bundled) if bundled.is_file() else shutil.which("claude")
