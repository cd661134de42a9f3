"""Whether a plan's touches are grounded in the repository: each names a tracked file or
folder, or a new path inside one (or inside a new folder another touch of the plan declares).
Pure: the tracked files are given."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

from swarmgit.domain.plan import Plan
from swarmgit.domain.touches import is_glob, literal_prefix


def folders_of(files: Sequence[str]) -> frozenset[str]:
    """Every folder (without trailing `/`) that holds one of files at some depth."""
    return frozenset(str(parent) for f in files for parent in PurePosixPath(f).parents if str(parent) != ".")


def ungrounded_touches(plan: Plan, files: Sequence[str]) -> list[str]:
    """Touches that point nowhere: neither a tracked file or folder, nor a new path whose folder
    is tracked or is itself a (new) touch of the plan. A glob's literal folder must exist or be
    such a touch. Whole-repository globs are left to the warnings."""
    tracked = set(files)
    folders = folders_of(files) | {""}
    declared = {t.rstrip("/") for task in plan.tasks for t in task.touches if not is_glob(t)}
    known = folders | declared
    problems = []
    for task in plan.tasks:
        for touch in task.touches:
            path = touch.rstrip("/")
            if is_glob(touch):
                base = "/".join(literal_prefix(touch))
                if base not in known:
                    problems.append(
                        f"{task.id}: touch `{touch}` is a glob under `{base}/`, which is not a "
                        "folder of the repository: use an existing folder, or declare the new "
                        f"folder `{base}/` in the task that creates it"
                    )
            elif path not in tracked and path not in folders:
                parent = str(PurePosixPath(path).parent).removeprefix(".")
                if parent not in known:
                    problems.append(
                        f"{task.id}: touch `{touch}` names no tracked file or folder, and its "
                        f"folder `{parent}/` does not exist: touch an existing path, a new file "
                        f"in an existing folder, or declare `{parent}/` in the task that "
                        "creates it"
                    )
    return problems
