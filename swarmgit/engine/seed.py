"""The seed of `git swarm new-track`: what the user says about the track before planning
(greenfield or brownfield, priorities, constraints), asked one question at a time or taken
from the defaults (`--yes`, or no terminal)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from swarmgit.errors import UsageError

GREENFIELD = "greenfield"
BROWNFIELD = "brownfield"
DEFAULT_PRIORITIES = ("correctness", "small, reviewable changes")
_NO_ANSWER = frozenset({"", "none", "no", "-", "n/a"})
_SCAFFOLD_NAMES = ("readme", "license", "licence", "copying", "changelog", ".git", ".swarm.toml")


@dataclass(frozen=True)
class Question:
    """One question of the seed; an empty answer takes the default."""

    key: str  # mode | priorities | constraints
    prompt: str
    default: str
    choices: tuple[str, ...] = ()


Ask = Callable[[Question], str]
"""Asks the user one question and returns the answer as typed."""


@dataclass(frozen=True)
class Seed:
    """What the user said about the track; empty fields are not answered yet."""

    mode: str | None = None  # greenfield | brownfield
    priorities: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()


def default_mode(files: Sequence[str]) -> str:
    """Brownfield when the repository holds anything beyond a README, licence, git and swarm
    files; else greenfield."""
    for path in files:
        name = PurePosixPath(path).name.lower()
        if not path.startswith("swarm/") and not name.startswith(_SCAFFOLD_NAMES):
            return BROWNFIELD
    return GREENFIELD


def answer_seed(seed: Seed, files: Sequence[str], ask: Ask | None) -> Seed:
    """The seed with every unanswered question answered: by `ask`, or by its default when ask
    is None (`--yes`, or no terminal). Raises UsageError for a mode that is neither choice."""
    mode = seed.mode
    if mode is None:
        question = Question(
            "mode",
            "Is this a new project (greenfield) or a change to existing code (brownfield)?",
            default_mode(files),
            (GREENFIELD, BROWNFIELD),
        )
        mode = _choice(question, ask(question) if ask else "")
    priorities = seed.priorities or _items(
        ask,
        Question(
            "priorities",
            "What matters most for this track (e.g. latency, cost, simplicity)?",
            ", ".join(DEFAULT_PRIORITIES),
        ),
    )
    constraints = seed.constraints or _items(
        ask,
        Question(
            "constraints",
            "Any constraints (stack, compatibility, deadlines, no new dependencies)?",
            "none",
        ),
    )
    return Seed(mode, priorities, constraints)


def _choice(question: Question, answer: str) -> str:
    text = answer.strip().lower() or question.default
    for choice in question.choices:
        if choice.startswith(text):
            return choice
    raise UsageError(f"answer {' or '.join(question.choices)} (got {answer!r})")


def _items(ask: Ask | None, question: Question) -> tuple[str, ...]:
    text = (ask(question) if ask else "").strip() or question.default
    return () if text.lower() in _NO_ANSWER else (text,)
