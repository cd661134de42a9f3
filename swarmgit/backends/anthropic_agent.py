"""The `anthropic` backend: our own tool-use loop over the Messages API.

One attempt = one conversation: the system prompt and the task's brief (both marked for the
prompt cache, so later turns pay cache-read prices), then turns of tool calls run by
`agent_tools` in the worktree, until the model calls `finish` with a valid report or a limit is
hit (max turns, the task's wall time, its per-task budget). Every response's token usage is
recorded with its cost from the pricing table.

Rate limits and overload (429, 529), other transient errors (408, 409, 5xx) and dropped
connections are retried by the SDK (`api_retries`, honouring `retry-after`) and then by our own
bounded backoff (`retry_delays`); every such response is reported as an event, `rate-limited`
for 429/529, `api-error` for the rest. When retries run out the attempt fails with that kind;
`run` never raises for API trouble.

The API key is read from the job's env (else the process env) and never written anywhere:
events, diagnoses, the transcript log and tool output are redacted.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TextIO, cast

import anthropic
from anthropic.types import MessageParam, ToolParam

from swarmgit.backends import messages_api
from swarmgit.backends.agent_tools import TOOL_SCHEMAS, ToolResult, Workspace, run_tool
from swarmgit.backends.base import AgentEvents, AgentJob, AgentOutcome, FailureKind, Usage
from swarmgit.backends.messages_api import EPHEMERAL
from swarmgit.config import Config
from swarmgit.domain.cost import model_for
from swarmgit.domain.report import Report, render_report
from swarmgit.domain.secrets import secrets_from_env
from swarmgit.fsutil import write_atomic

SYSTEM_PROMPT = """\
You are a coding agent doing one task of a larger plan, alone in your own git worktree, next to
other agents doing other tasks in theirs.

- Your tools act inside the worktree only. write_file and edit_file accept only paths inside
  the task's touches (listed in the brief); other paths are refused. Work you find outside
  your touches goes into your report as a spawn candidate, never into the files.
- Read before you edit; keep changes small and focused on the task and its acceptance criteria.
- Run the relevant tests with run_command. Do not commit (no `git add`, no `git commit`): the
  orchestrator commits your work after you finish.
- Share facts other tasks need (interfaces, decisions) with share_note.
- End by calling finish exactly once with your report: status (done, failed, blocked or
  partial), a short summary, the files you touched, and spawn candidates. The report goes
  only through finish, never into a file: the orchestrator stores it.
"""
NUDGE = (
    "You have not called finish yet. Continue the task with your tools, or call finish with "
    "your report if you are done or cannot go on."
)
DEFAULT_RETRY_DELAYS = (5.0, 20.0, 60.0)
LOG_RESULT_CHARS = 2000
_TRANSIENT_STATUS = (408, 409, 429)
_RATE_STATUS = (429, 529)


class _Stop(Exception):
    """Ends an attempt early with a failed outcome."""

    def __init__(self, kind: FailureKind, diagnosis: str) -> None:
        super().__init__(diagnosis)
        self.kind = kind
        self.diagnosis = diagnosis


class AnthropicAgent:
    """Runs tasks through the Messages API with our tools. See the module docstring."""

    name = "anthropic"

    def __init__(
        self,
        config: Config,
        *,
        api_retries: int = 2,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.api_retries = api_retries
        self.retry_delays = tuple(retry_delays)
        self.sleep = sleep

    def run(self, job: AgentJob, on_event: AgentEvents) -> AgentOutcome:
        env = {**os.environ, **job.env}
        if not env.get("ANTHROPIC_API_KEY"):
            return AgentOutcome(
                ok=False,
                kind=FailureKind.SETUP_FAILED,
                diagnosis="ANTHROPIC_API_KEY is not set: export it to use the anthropic backend,"
                " or set agent.backend to script or command in .swarm.toml",
            )
        job.log_file.parent.mkdir(parents=True, exist_ok=True)
        with job.log_file.open("a", encoding="utf-8") as log:
            conversation = _Conversation(self, job, env, _Transcript(log, env), on_event)
            return conversation.run()


class _Transcript:
    """The attempt's log: each turn, tool call and (truncated) result, redacted."""

    def __init__(self, handle: TextIO, env: Mapping[str, str]) -> None:
        self._handle = handle
        self._secrets = secrets_from_env(env)

    def write(self, text: str) -> None:
        self._handle.write(self._secrets.redact(text) + "\n")
        self._handle.flush()


class _Conversation:
    """One attempt's state: messages so far, usage, turn count, deadline."""

    def __init__(
        self,
        agent: AnthropicAgent,
        job: AgentJob,
        env: Mapping[str, str],
        log: _Transcript,
        on_event: AgentEvents,
    ) -> None:
        settings = agent.config.agent
        self._agent = agent
        self._job = job
        self._env = env
        self._secrets = secrets_from_env(env)
        self._log = log
        self._on_event = on_event
        self._model = job.model or model_for(job.task, settings)
        self._price = agent.config.pricing.get(self._model)
        self._deadline = time.monotonic() + settings.timeout_minutes * 60
        self._usage: list[Usage] = []
        self._turns = 0
        self._workspace = Workspace(
            root=job.worktree.resolve(),
            touches=job.task.touches,
            task_id=job.task.id,
            shared_context=job.shared_context,
            env=env,
            log_file=job.log_file,
            command_timeout=settings.command_timeout_seconds,
            kill_grace=settings.kill_grace_seconds,
            output_cap=settings.output_cap_bytes,
            pid_file=job.pid_file,
            fence=job.fence,
        )
        brief = job.brief_file.read_text(encoding="utf-8")
        self._messages: list[dict[str, Any]] = [
            {"role": "user", "content": [{"type": "text", "text": brief, "cache_control": EPHEMERAL}]}
        ]

    def run(self) -> AgentOutcome:
        self._log.write(f"# {self._job.task.id} attempt {self._job.attempt} on {self._model}")
        try:
            with self._client() as client:
                report = self._loop(client)
        except _Stop as stop:
            self._log.write(f"stopped: {stop.kind}: {stop.diagnosis}")
            return self._outcome(ok=False, kind=stop.kind, diagnosis=stop.diagnosis)
        return self._finished(report)

    def _client(self) -> anthropic.Anthropic:
        def on_response(response: Any) -> None:  # sees the SDK's own retries too
            status = response.status_code
            if _transient(status):
                self._event(_retry_kind(status), f"HTTP {status} from the Messages API")

        return messages_api.client(self._env, retries=self._agent.api_retries, on_response=on_response)

    def _loop(self, client: anthropic.Anthropic) -> Report:
        settings = self._agent.config.agent
        while self._turns < settings.max_turns:
            self._check_limits()
            self._turns += 1
            message = self._request(client)
            self._record_usage(message)
            blocks = [_block_param(block) for block in message.content]
            self._messages.append({"role": "assistant", "content": blocks})
            results: list[dict[str, Any]] = []
            for block in message.content:
                if block.type == "text" and block.text.strip():
                    self._log.write(f"assistant: {block.text.strip()}")
                if block.type != "tool_use":
                    continue
                result = self._call_tool(block.name, block.input)
                if result.report is not None:
                    return result.report
                results.append(
                    {
                        "type": "tool_result",
                        "tool_use_id": block.id,
                        "content": result.content,
                        "is_error": result.is_error,
                    }
                )
            self._messages.append({"role": "user", "content": results or [{"type": "text", "text": NUDGE}]})
        raise _Stop(FailureKind.MAX_TURNS, f"no finish after {settings.max_turns} turns (agent.max_turns)")

    def _request(self, client: anthropic.Anthropic) -> Any:
        """One model call with the outer retry; raises _Stop when retries or time run out."""
        delays = self._agent.retry_delays
        for attempt in range(len(delays) + 1):
            try:
                return self._stream(client)
            except (anthropic.APIStatusError, anthropic.APIConnectionError) as exc:
                kind, what = self._transient_failure(exc)
            self._check_time()
            if attempt == len(delays) or delays[attempt] >= self._time_left():
                raise _Stop(
                    kind,
                    f"the Messages API kept failing ({what}) after "
                    f"{attempt + 1} tries with retries; try again later",
                )
            self._event(kind, f"{what}; retry {attempt + 1}/{len(delays)} in {delays[attempt]:g}s")
            self._agent.sleep(delays[attempt])
        raise AssertionError("unreachable")

    def _stream(self, client: anthropic.Anthropic) -> Any:
        with client.messages.stream(
            model=self._model,
            max_tokens=self._agent.config.agent.max_tokens,
            system=[{"type": "text", "text": SYSTEM_PROMPT, "cache_control": EPHEMERAL}],
            # our JSON-shaped params; the SDK's TypedDicts describe the same shapes
            tools=cast(list[ToolParam], list(TOOL_SCHEMAS)),
            messages=cast(list[MessageParam], _cache_marked(self._messages)),
            timeout=self._time_left(),
        ) as stream:
            return stream.get_final_message()

    def _transient_failure(self, exc: anthropic.APIError) -> tuple[FailureKind, str]:
        """(failure kind, what happened) for an error worth retrying; raises _Stop otherwise."""
        if isinstance(exc, anthropic.APIConnectionError):
            return FailureKind.API_ERROR, self._redacted(f"connection failed: {exc}")
        status = getattr(exc, "status_code", 0)
        if status in (401, 403):
            raise _Stop(
                FailureKind.SETUP_FAILED,
                f"the Messages API refused the key (HTTP {status}): check ANTHROPIC_API_KEY",
            ) from exc
        if not _transient(status):
            raise _Stop(
                FailureKind.API_ERROR,
                self._redacted(f"the Messages API answered HTTP {status}: {exc.message}"),
            ) from exc
        return _retry_kind(status), f"HTTP {status}"

    def _call_tool(self, name: str, tool_input: Any) -> ToolResult:
        args = tool_input if isinstance(tool_input, dict) else {}
        self._log.write(f"→ {name} {json.dumps(args)[:LOG_RESULT_CHARS]}")
        result = run_tool(self._workspace, name, args, self._time_left())
        mark = "error" if result.is_error else "ok"
        self._log.write(f"← {mark}: {result.content[:LOG_RESULT_CHARS]}")
        return result

    def _record_usage(self, message: Any) -> None:
        tokens = messages_api.usage_of(message.usage, self._model, self._price)
        cost = tokens.cost_usd
        self._usage.append(tokens)
        self._log.write(
            f"## turn {self._turns}: in {tokens.input_tokens}, out {tokens.output_tokens}, "
            f"cache write {tokens.cache_write_tokens}, cache read {tokens.cache_read_tokens}"
            + (f", ${cost:.4f}" if cost is not None else ", no price for this model")
        )

    def _check_limits(self) -> None:
        self._check_time()
        cap = self._job.budget_usd
        if cap is not None and self.spent >= cap:
            raise _Stop(FailureKind.BUDGET, f"spent ${self.spent:.4f}, the task's cap is ${cap:.4f}")

    def _check_time(self) -> None:
        if self._time_left() <= 0:
            minutes = self._agent.config.agent.timeout_minutes
            raise _Stop(FailureKind.TIMEOUT, f"no finish within {minutes:g} minutes (agent.timeout_minutes)")

    @property
    def spent(self) -> float:
        return sum(u.cost_usd or 0.0 for u in self._usage)

    def _time_left(self) -> float:
        return self._deadline - time.monotonic()

    def _event(self, kind: str, message: str) -> None:
        self._log.write(f"[{kind}] {message}")
        self._on_event(kind, self._redacted(f"{self._job.task.id}: {message}"))

    def _redacted(self, text: str) -> str:
        return self._secrets.redact(text)

    def _finished(self, report: Report) -> AgentOutcome:
        """The outcome of an accepted report, also written to job.report_file (as $SWARM_REPORT
        is for other backends); `failed` and `blocked` reports are failed attempts."""
        ok = report.status in ("done", "partial")
        diagnosis = "" if ok else f"the agent reported {report.status}: {report.summary}"
        report_text = self._redacted(render_report(report))
        write_atomic(self._job.report_file, report_text)
        return self._outcome(
            ok=ok,
            kind=None if ok else FailureKind.reported(report.status),
            diagnosis=self._redacted(diagnosis),
            report_text=report_text,
        )

    def _outcome(self, **fields: Any) -> AgentOutcome:
        note = f"{self._model}: {self._turns} turns, ${self.spent:.4f}"
        return AgentOutcome(usage=tuple(self._usage), notes=(note,), **fields)


def _transient(status: int) -> bool:
    return status in _TRANSIENT_STATUS or status >= 500


def _retry_kind(status: int) -> FailureKind:
    return FailureKind.RATE_LIMITED if status in _RATE_STATUS else FailureKind.API_ERROR


def _block_param(block: Any) -> dict[str, Any]:
    """An assistant content block as a request param (only the fields the API accepts back)."""
    if block.type == "text":
        return {"type": "text", "text": block.text}
    if block.type == "tool_use":
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    return dict(block.model_dump(mode="json", exclude_none=True))


def _cache_marked(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages with a moving cache breakpoint on the latest user turn (the brief keeps
    its own), so each request reads everything before it from the prompt cache."""
    last = messages[-1]
    if len(messages) == 1 or last["role"] != "user":
        return messages
    content = [*last["content"][:-1], {**last["content"][-1], "cache_control": EPHEMERAL}]
    return [*messages[:-1], {**last, "content": content}]
