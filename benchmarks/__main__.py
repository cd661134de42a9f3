"""`python -m benchmarks [name ...]`: run the benchmark modules, write benchmarks/RESULTS.md.

Runs every `benchmarks/bench_<name>.py` (or the names given, with or without `bench_`) by
calling its `run() -> str`. Each section sits between markers in RESULTS.md, so running some
benchmarks replaces their sections and keeps the others. The file is replaced atomically (a temp
file, then a rename). Exit code 0, 1 if a benchmark raised (its section says so), 2 for an
unknown name.
"""

from __future__ import annotations

import importlib
import os
import platform
import re
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
_SECTION = re.compile(r"<!-- bench:(\w+) -->\n(.*?)<!-- /bench:\1 -->\n", re.S)


def available() -> list[str]:
    return sorted(path.stem.removeprefix("bench_") for path in HERE.glob("bench_*.py"))


def run_one(name: str) -> tuple[str, bool]:
    """(markdown section, ok) for one benchmark, timed; a failure becomes its section."""
    began = time.perf_counter()
    stamp = f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
    try:
        body = importlib.import_module(f"benchmarks.bench_{name}").run().strip()
        ok = True
    except Exception:  # one broken benchmark must not lose the others' results
        body = f"## {name}\n\nFAILED:\n\n```\n{traceback.format_exc().strip()}\n```"
        ok = False
    elapsed = time.perf_counter() - began
    return f"{body}\n\n_`{name}`: run {stamp}, took {elapsed:.1f} s._\n", ok


def render(sections: dict[str, str]) -> str:
    header = (
        "# Benchmark results\n\n"
        f"Written {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC by `python -m benchmarks` on "
        f"{os.cpu_count()} cores ({platform.machine()}, {platform.system()}), "
        f"Python {platform.python_version()}.\n\n"
    )
    return header + "".join(
        f"<!-- bench:{name} -->\n{text}<!-- /bench:{name} -->\n\n" for name, text in sections.items()
    )


def write_atomically(path: Path, text: str) -> None:
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


def main(argv: Sequence[str]) -> int:
    names = [name.removeprefix("bench_") for name in argv]
    unknown = sorted(set(names) - set(available()))
    if unknown:
        print(f"unknown benchmark {', '.join(unknown)}; have: {', '.join(available())}", file=sys.stderr)
        return 2
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    sections = {m.group(1): m.group(2) for m in _SECTION.finditer(old)}
    failed = False
    for name in names or available():
        print(f"running {name} ...", flush=True)
        sections[name], ok = run_one(name)
        failed |= not ok
        print(f"  {name}: {'done' if ok else 'FAILED'}", flush=True)
    write_atomically(RESULTS, render(dict(sorted(sections.items()))))
    print(f"wrote {RESULTS}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
