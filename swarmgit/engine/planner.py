"""The model-driven planner behind `git swarm new-track`: PRD.md, spec.md and plan.md.

One conversation with the architect's model (`agent.roles["architect"]`, by default the Opus
model). The model answers through two tools: `write_documents` (the PRD's ten sections and the
spec's three, as fields, so the documents always have the sections `plan check` and the
agents' briefs look for) and `write_plan` (the tasks as structured input). Each task list is
turned into `Task`s, rendered with `render_task` and read back by `parse_plan`, so a plan the
planner accepts is exactly what `plan check` will read. On top of the parser's errors, every
touch must be grounded in the repository (`domain/grounding.py`). The seed's questions are in
`seed.py`; the API client, cache marker and usage conversion in `backends/messages_api.py`.
Errors go back to the model as the tool's result and it tries again, at most `max_attempts`
turns; `plan check` warnings are sent back too, but a plan whose only problems are warnings
is accepted on the last turn (and its warnings returned).

Contracts:
- Nothing is written here: `plan_track` returns the three documents, or raises `InvalidInput`
  (exit 2) listing the last problems, `WorkFailed` (exit 1) when the API fails, `UsageError`
  (exit 2) when the API refuses the key. Every error says what was spent.
- The API key never leaves the request headers: the prompt, the documents and every message
  are redacted of the environment's secret values (`domain.secrets`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import anthropic
from anthropic.types import MessageParam, ToolParam
from pydantic import ValidationError

from swarmgit.backends import messages_api
from swarmgit.backends.base import Usage
from swarmgit.backends.messages_api import EPHEMERAL
from swarmgit.config import Config
from swarmgit.domain.cost import model_for
from swarmgit.domain.grounding import ungrounded_touches
from swarmgit.domain.plan import Task, parse_effort
from swarmgit.domain.plan_check import plan_warnings
from swarmgit.domain.plan_parser import parse_plan, plan_text_for_tasks
from swarmgit.domain.secrets import secrets_from_env
from swarmgit.engine.repo_digest import RepoDigest
from swarmgit.engine.seed import BROWNFIELD, GREENFIELD, Seed
from swarmgit.errors import Diagnostic, InvalidInput, UsageError, WorkFailed

# --- documents and plan from tool input --------------------------------------------------------

PRD_SECTIONS = (
    ("problem", "Problem"), ("goals", "Goals"), ("non_goals", "Non-goals"), ("users", "Users"),
    ("requirements", "Requirements"), ("constraints", "Constraints"), ("risks", "Risks"),
    ("iosm_targets", "IOSM Targets"), ("rollout", "Rollout"), ("open_questions", "Open questions"),
)  # fmt: skip
SPEC_SECTIONS = (("design", "Design"), ("interfaces", "Interfaces"), ("acceptance_tests", "Acceptance tests"))


@dataclass(frozen=True)
class TrackInfo:
    """What the documents' headers say: the track's title, id, creation date and planner."""

    title: str
    track: str
    date: str
    model: str = ""


@dataclass(frozen=True)
class PlanAttempt:
    """One `write_plan` input checked: the plan.md text, its errors and its warnings."""

    text: str
    errors: tuple[str, ...]
    warnings: tuple[str, ...]


def documents_from_input(raw: object, info: TrackInfo) -> tuple[str, str] | list[str]:
    """PRD.md and spec.md from `write_documents` input, or the problems with it."""
    data = raw if isinstance(raw, dict) else {}
    prd, spec = data.get("prd"), data.get("spec")
    problems = _missing("prd", prd, PRD_SECTIONS) + _missing("spec", spec, SPEC_SECTIONS)
    if problems:
        return problems
    assert isinstance(prd, dict) and isinstance(spec, dict)
    by = f" · planned by {info.model}" if info.model else ""
    prd_text = _document(
        f"# PRD: {info.title}\n\nTrack: `{info.track}` · created {info.date}{by}\n",
        [(f"{n}. {heading}", prd[key]) for n, (key, heading) in enumerate(PRD_SECTIONS, 1)],
    )
    spec_text = _document(
        f"# Spec: {info.title}\n\nTrack: `{info.track}`\n",
        [(heading, spec[key]) for key, heading in SPEC_SECTIONS],
    )
    return prd_text, spec_text


def _missing(name: str, value: object, sections: Sequence[tuple[str, str]]) -> list[str]:
    if not isinstance(value, dict):
        return [f"write_documents: `{name}` must be an object with the section fields"]
    return [
        f"write_documents: {name}.{key} ({heading}) is missing or empty: write the section"
        for key, heading in sections
        if not isinstance(value.get(key), str) or not value[key].strip()
    ]


def _document(header: str, sections: Sequence[tuple[str, str]]) -> str:
    body = "".join(f"\n## {heading}\n{text.strip()}\n" for heading, text in sections)
    return header + body


def plan_from_input(raw: object, files: Sequence[str], info: TrackInfo) -> PlanAttempt:
    """plan.md from `write_plan` input, checked as `plan check` would, plus grounded touches.

    `files` are the repository's tracked files. Errors and warnings name the task at fault.
    """
    tasks, errors = _tasks(raw)
    header = (
        f"# Plan: {info.title}\n\nTrack: `{info.track}`. Each task runs in its own worktree on "
        f"branch `swarm/{info.track}/<id>`.\n\n"
    )
    text = header + plan_text_for_tasks(tasks)
    if errors:
        return PlanAttempt(text, tuple(errors), ())
    try:
        plan = parse_plan(text, "plan.md")
    except InvalidInput as exc:
        return PlanAttempt(text, tuple(d.message for d in exc.diagnostics), ())
    warnings = tuple(d.message for d in plan_warnings(plan, files))
    return PlanAttempt(text, tuple(ungrounded_touches(plan, files)), warnings)


def _tasks(raw: object) -> tuple[list[Task], list[str]]:
    items = raw.get("tasks") if isinstance(raw, dict) else None
    if not isinstance(items, list) or not items:
        return [], ["write_plan: `tasks` must be a non-empty list of task objects"]
    tasks: list[Task] = []
    errors: list[str] = []
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict):
            errors.append(f"write_plan: tasks[{n - 1}] is not an object")
            continue
        label = str(item.get("id") or f"tasks[{n - 1}]")
        try:
            minutes = parse_effort(str(item.get("effort") or "M"))
            tasks.append(
                Task.model_validate(
                    {
                        "id": item.get("id"),
                        "title": " ".join(str(item.get("title") or "").split()),
                        "role": " ".join(str(item.get("role") or "Implementer").split()),
                        "deps": _strings(item.get("deps"), "deps"),
                        "touches": _strings(item.get("touches"), "touches"),
                        "context": _strings(item.get("context"), "context"),
                        "concurrency": item.get("concurrency") or "write-local",
                        "effort_minutes": minutes,
                        "severity": item.get("severity") or "medium",
                        "acceptance": str(item.get("acceptance") or "").strip(),
                        "needs_user_input": bool(item.get("needs_user_input")),
                    }
                )
            )
        except ValidationError as exc:  # before ValueError: pydantic's is a subclass of it
            errors.append(f"{label}: {_validation_text(exc)}")
        except (ValueError, TypeError) as exc:  # parse_effort's message; a non-list field
            errors.append(f"{label}: {exc}")
    return tasks, errors


def _strings(value: object, name: str) -> tuple[str, ...]:
    """A list of strings (a comma-separated string is taken as one); TypeError otherwise."""
    if isinstance(value, str):
        value = value.split(",")
    if value is None:
        return ()
    if not isinstance(value, list):
        raise TypeError(f"{name} must be a list of strings, got {type(value).__name__}")
    return tuple(stripped for item in value if (stripped := str(item).strip()))


def _validation_text(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())


# --- the conversation ----------------------------------------------------------------------

DEFAULT_ATTEMPTS = 3
PLAN_MAX_TOKENS = 32_000  # three documents in one answer; streamed, so the SDK allows it
_PLANNER_ROLE = "Architect"

SYSTEM_PROMPT = """\
You are the architect of a track run by swarmgit: a feature is split into tasks that coding
agents run in parallel, each in its own git worktree, writing only the paths its task declares
("touches"). Tasks whose touches overlap never run at the same time.

Answer only by calling tools, both in your first answer:
- write_documents: the PRD (ten sections) and the spec (design, interfaces, acceptance
  tests), in markdown, specific to this repository and this request.
- write_plan: the tasks.

The plan is checked; a plan that breaks a rule comes back with the problems, to fix:
- ids T01, T02, ... in order; deps name other tasks of the plan; no cycles.
- touches are paths relative to the repository root, gitignore-style: a file (`src/app.py`),
  a folder (`src/cache/`) or a glob (`tests/**/test_*.py`). Each names a tracked file or
  folder, a new file in an existing folder, or a new folder in an existing one: declare it
  (`src/cache/`) in the task that creates it, and later tasks may touch paths under it.
- read-only tasks (explore, review) have no touches and concurrency read-only; every other
  task has touches and is write-local. Keep touches narrow: what the task writes, no more.
- two tasks whose touches overlap must be ordered by a dependency.
- context (optional): the paths a task must read but does not change, in the same form (the
  modules it calls, the docs it follows). It grants no write and takes no lock; where
  worktrees are sparse, a task's worktree holds only its touches and its context.
- effort: S, M, L, XL, or a duration like 90min or 2h. severity: low, medium, high, critical.
- acceptance: concrete, checkable criteria (tests that pass, behaviour to observe).
- needs_user_input: true only when a person must decide something before the task runs.
- Prefer 3 to 12 tasks, split so that independent work runs in parallel.
"""

_PROSE = {"type": "string"}


def _sections_schema(sections: Sequence[tuple[str, str]]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {key: {**_PROSE, "description": title} for key, title in sections},
        "required": [key for key, _ in sections],
    }


WRITE_DOCUMENTS: dict[str, Any] = {
    "name": "write_documents",
    "description": "Write the track's PRD and spec: every section as markdown (no heading).",
    "input_schema": {
        "type": "object",
        "properties": {
            "prd": _sections_schema(PRD_SECTIONS),
            "spec": _sections_schema(SPEC_SECTIONS),
        },
        "required": ["prd", "spec"],
    },
}
_TASK_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": "^T[0-9]{2,}$"},
        "title": _PROSE,
        "role": {**_PROSE, "description": "Explorer, Architect, Implementer, Tester, ..."},
        "deps": {"type": "array", "items": {"type": "string"}},
        "touches": {"type": "array", "items": {"type": "string"}},
        "context": {"type": "array", "items": {"type": "string"}},
        "concurrency": {"type": "string", "enum": ["read-only", "write-local", "write-shared"]},
        "effort": {**_PROSE, "description": "S, M, L, XL, or a duration like 90min, 2h"},
        "severity": {"type": "string", "enum": ["low", "medium", "high", "critical"]},
        "acceptance": _PROSE,
        "needs_user_input": {"type": "boolean"},
    },
    "required": [
        "id",
        "title",
        "role",
        "deps",
        "touches",
        "concurrency",
        "effort",
        "severity",
        "acceptance",
        "needs_user_input",
    ],
}
WRITE_PLAN: dict[str, Any] = {
    "name": "write_plan",
    "description": "Write the track's plan: the whole task list, in order.",
    "input_schema": {
        "type": "object",
        "properties": {"tasks": {"type": "array", "items": _TASK_SCHEMA, "minItems": 1}},
        "required": ["tasks"],
    },
}


@dataclass(frozen=True)
class PlanRequest:
    """What the planner is asked: the track, the user's answers and the repository."""

    info: TrackInfo
    seed: Seed
    digest: RepoDigest


@dataclass(frozen=True)
class PlannedTrack:
    """The three documents, validated, and what the planning cost."""

    prd: str
    spec: str
    plan: str
    model: str
    usage: tuple[Usage, ...]
    warnings: tuple[str, ...]  # `plan check` warnings the last attempt still had

    @property
    def attempts(self) -> int:
        return len(self.usage)

    def summary(self) -> str:
        """One line: model, turns, tokens and cost."""
        turns = "1 turn" if self.attempts == 1 else f"{self.attempts} turns"
        return f"planned by {self.model} in {turns}: {_spent(self.usage)}"


@dataclass
class _Draft:
    """The accepted parts so far."""

    documents: tuple[str, str] | None = None
    plan: PlanAttempt | None = None
    problems: list[str] = field(default_factory=list)  # of the latest turn


def plan_track(
    request: PlanRequest,
    config: Config,
    env: Mapping[str, str],
    *,
    max_attempts: int = DEFAULT_ATTEMPTS,
    api_retries: int = 2,
    progress: Callable[[str], None] = lambda _: None,
) -> PlannedTrack:
    """Have the architect's model write the track's documents; see the module docstring."""
    model = model_for(Task(id="PLAN", title=request.info.title, role=_PLANNER_ROLE), config.agent)
    info = TrackInfo(request.info.title, request.info.track, request.info.date, model)
    price = config.pricing.get(model)
    prompt = secrets_from_env(env).redact(_prompt(request))
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": [{"type": "text", "text": prompt, "cache_control": EPHEMERAL}]}
    ]
    usage: list[Usage] = []
    draft = _Draft()
    max_tokens = max(PLAN_MAX_TOKENS, config.agent.max_tokens)
    with messages_api.client(env, retries=api_retries, timeout_s=config.agent.timeout_minutes * 60) as client:
        for attempt in range(1, max_attempts + 1):
            progress(f"asking {model} for the PRD, spec and plan (turn {attempt} of {max_attempts})")
            message = _call(client, model, max_tokens, messages, usage, env)
            usage.append(messages_api.usage_of(message.usage, model, price))
            messages.append(
                {
                    "role": "assistant",
                    "content": [b.model_dump(mode="json", exclude_none=True) for b in message.content],
                }
            )
            last = attempt == max_attempts
            results = _answer_tools(message, draft, request.digest.files, info, env, last)
            if draft.documents and draft.plan:
                prd, spec = draft.documents
                return PlannedTrack(prd, spec, draft.plan.text, model, tuple(usage), draft.plan.warnings)
            if not last:
                progress(f"turn {attempt}: {len(draft.problems)} problem(s) sent back to the model")
            messages.append({"role": "user", "content": [*results, _still_needed(draft)]})
    raise InvalidInput(_failure(draft, max_attempts, usage))


def _prompt(request: PlanRequest) -> str:
    seed = request.seed
    mode = {
        GREENFIELD: "greenfield (a new project)",
        BROWNFIELD: "brownfield (a change to existing code: fit its structure, keep its interfaces)",
    }.get(seed.mode or "", "?")
    return (
        f"# Track: {request.info.title}\n\nTrack id: `{request.info.track}`\n\n"
        "## The user's answers\n"
        f"- Project: {mode}\n"
        f"- Priorities: {'; '.join(seed.priorities) or 'none given'}\n"
        f"- Constraints: {'; '.join(seed.constraints) or 'none given'}\n\n"
        f"# The repository\n\n{request.digest.text}"
    )


def _call(
    client: anthropic.Anthropic,
    model: str,
    max_tokens: int,
    messages: list[dict[str, Any]],
    usage: Sequence[Usage],
    env: Mapping[str, str],
) -> Any:
    """One streamed model turn; API failures become the user's error, saying what was spent."""
    try:
        with client.messages.stream(
            model=model,
            max_tokens=max_tokens,
            system=[{"type": "text", "text": SYSTEM_PROMPT, "cache_control": EPHEMERAL}],
            # our JSON-shaped params; the SDK's TypedDicts describe the same shapes
            tools=cast(list[ToolParam], [WRITE_DOCUMENTS, WRITE_PLAN]),
            tool_choice={"type": "any"},
            messages=cast(list[MessageParam], messages),
        ) as stream:
            return stream.get_final_message()
    except (anthropic.AuthenticationError, anthropic.PermissionDeniedError) as exc:
        raise UsageError(
            f"the Messages API refused the key (HTTP {exc.status_code}): check "
            "ANTHROPIC_API_KEY, or run with --no-llm for the offline templates"
        ) from exc
    except anthropic.APIStatusError as exc:
        what = f"the Messages API answered HTTP {exc.status_code}: {exc.message}"
    except anthropic.APIConnectionError as exc:
        what = f"could not reach the Messages API: {exc}"
    raise WorkFailed(
        secrets_from_env(env).redact(
            f"{what}; nothing was written ({_spent(usage)}); try again later, or run with --no-llm"
        )
    )


def _spent(usage: Sequence[Usage]) -> str:
    tokens_in = sum(u.input_tokens + u.cache_write_tokens + u.cache_read_tokens for u in usage)
    tokens = f"{tokens_in} input and {sum(u.output_tokens for u in usage)} output tokens"
    if any(u.cost_usd is None for u in usage):
        return f"{tokens}, cost unknown (no price for {usage[0].model} in [pricing])"
    return f"{tokens}, ${sum(u.cost_usd or 0.0 for u in usage):.4f}"


def _answer_tools(
    message: Any,
    draft: _Draft,
    files: Sequence[str],
    info: TrackInfo,
    env: Mapping[str, str],
    last: bool,
) -> list[dict[str, Any]]:
    """Check each tool call of the turn into the draft; the tool_result blocks to send back."""
    draft.problems = []
    results = []
    for block in message.content:
        if block.type != "tool_use":
            continue
        if message.stop_reason == "max_tokens":
            problems = [
                f"{block.name}: the answer was cut off at the output limit before this "
                "call was complete: write shorter documents"
            ]
        else:
            problems = _apply(block.name, _redacted(block.input, env), draft, files, info, last)
        draft.problems += problems
        content = (
            "accepted"
            if not problems
            else (
                "Not accepted. Fix every problem below and call the tool again with the whole "
                "input:\n" + "\n".join(f"- {p}" for p in problems)
            )
        )
        results.append(
            {"type": "tool_result", "tool_use_id": block.id, "content": content, "is_error": bool(problems)}
        )
    return results


def _apply(
    name: str, raw: object, draft: _Draft, files: Sequence[str], info: TrackInfo, last: bool
) -> list[str]:
    """Check one tool call; store it in the draft when accepted; its problems otherwise."""
    if name == "write_documents":
        documents = documents_from_input(raw, info)
        if isinstance(documents, list):
            return documents
        draft.documents = documents
        return []
    if name == "write_plan":
        attempt = plan_from_input(raw, files, info)
        if attempt.errors:
            return list(attempt.errors)
        if attempt.warnings and not last:
            return [f"warning from `plan check`: {w}" for w in attempt.warnings]
        draft.plan = attempt
        return []
    return [f"there is no tool {name!r}: use write_documents and write_plan"]


def _redacted(value: object, env: Mapping[str, str]) -> object:
    """Tool input with secret values replaced (JSON keeps such tokens verbatim)."""
    return json.loads(secrets_from_env(env).redact(json.dumps(value)))


def _still_needed(draft: _Draft) -> dict[str, Any]:
    missing = [
        name for name, done in (("write_documents", draft.documents), ("write_plan", draft.plan)) if not done
    ]
    return {"type": "text", "text": f"Still needed: {' and '.join(missing)}."}


def _failure(draft: _Draft, attempts: int, usage: Sequence[Usage]) -> list[Diagnostic]:
    where = "plan.md (not written)"
    head = Diagnostic(
        where,
        None,
        (
            f"the model's answer was still not acceptable after {attempts} turns; nothing was "
            f"written ({_spent(usage)}): run again, reword the description, or run with --no-llm "
            "and write the plan yourself"
        ),
    )
    missing = [
        f"the model never gave an acceptable {name}"
        for name, done in (("PRD and spec", draft.documents), ("plan", draft.plan))
        if not done
    ]
    return [head, *(Diagnostic(where, None, p) for p in [*draft.problems, *missing])]
