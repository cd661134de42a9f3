"""Broken code an agent wrote is ordinary input: `git swarm gates` and `implement` judge it
(a finding at its file and line, exit 1) and never crash (no exit 3, no crash log)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swarmgit.config import Gates
from swarmgit.gates.base import GateContext, GateResult
from swarmgit.gates.improve import Improve
from swarmgit.gates.modularize import Modularize
from tests.gitutil import git, make_repo, write
from tests.swarmrepo import swarm, swarm_process, task_md, track_repo

PACKAGE = {
    "pkg/__init__.py": "",
    "pkg/a.py": "from pkg import b\n\n\ndef f():\n    return b.g()\n",
    "pkg/b.py": "def g():\n    return 1\n",
}

# name -> (head bytes of pkg/a.py, the line the finding names, words in its message)
BROKEN: dict[str, tuple[bytes, int, str]] = {
    "a syntax error": (b"from pkg import b\n\ndef f(:\n    return\n", 3, "invalid syntax"),
    "not UTF-8": (b"from pkg import b\nNAME = '\xe9'\n", 2, "can't decode"),
    "null bytes (a binary file)": (b"from pkg import b\n\x00\x01\x02\n", 0, "null bytes"),
    # libcst segfaults on these parentheses and grimp's scanner on this chain: CPython refuses both
    "5000 nested parentheses": (b"x = " + b"(" * 5000 + b")" * 5000 + b"\n", 1, "too many nested"),
    "a 200k-term chain": (b"x = " + b"1+" * 200_000 + b"1\n", 0, "too deeply nested"),
    # the same that does not parse: libcst takes minutes on it, grimp's scanner crashes
    "a 200k-term chain that does not parse": (b"x = " + b"1+" * 200_000 + b"\n", 1, "invalid syntax"),
    "a 20k-term chain that does not parse": (b"x = " + b"1+" * 20_000 + b"\n", 1, "invalid syntax"),
}


def _broken_repo(root: Path, source: bytes) -> Path:
    repo = make_repo(root, PACKAGE)
    (repo / "pkg/a.py").write_bytes(source)
    git(repo, "commit", "-qam", "broken")
    return repo


def _crash_logs(repo: Path) -> list[Path]:
    return list((repo / ".git/swarm/crash").glob("*"))


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_gates_judge_a_module_that_does_not_parse_and_do_not_crash(tmp_path: Path, case: str) -> None:
    source, line, words = BROKEN[case]
    repo = _broken_repo(tmp_path / "r", source)

    run = swarm_process(repo, "gates", "--json")  # a real process: a segfault would show here

    assert run.returncode == 1, run.stderr
    assert _crash_logs(repo) == []
    data = json.loads(run.stdout)
    assert data["verdict"] == "REJECTED"
    found = {
        (g["key"], f["file"], f["line"], f["rule"]): f["message"]
        for g in data["gates"]
        for f in g["findings"]
    }
    # One kind of finding at one place in both gates; Gate-I alone scores it (0).
    assert found.keys() >= {("I", "pkg/a.py", line, "syntax-error"), ("M", "pkg/a.py", line, "syntax-error")}
    assert words in found[("I", "pkg/a.py", line, "syntax-error")]
    assert "imports are unknown" in found[("M", "pkg/a.py", line, "syntax-error")]
    scores = {g["key"]: g["score"] for g in data["gates"]}
    assert scores["I"] == 0.0 and scores["M"] == 1.0


def test_valid_code_nested_past_libcsts_recursion_is_skipped_not_blamed(tmp_path: Path) -> None:
    # CPython compiles a 900-term sum; libcst's position pass recursed past Python's limit.
    source = b"def f(y):\n    for i in y:\n        x = " + b"y+" * 900 + b"1\n    return x\n"
    repo = _broken_repo(tmp_path / "r", source)

    run = swarm_process(repo, "gates", "--json")

    assert run.returncode in (0, 1), run.stderr
    assert _crash_logs(repo) == []
    rules = {f["rule"] for g in json.loads(run.stdout)["gates"] for f in g["findings"]}
    assert not rules & {"syntax-error", "unscannable"}


def test_a_module_in_its_declared_encoding_is_not_blamed(tmp_path: Path) -> None:
    repo = _broken_repo(tmp_path / "r", b"# -*- coding: latin-1 -*-\nfrom pkg import b\nNAME = '\xe9'\n")

    with GateContext.between(repo, "HEAD~1", "HEAD", Gates(), cached=False) as ctx:
        results = [Improve().evaluate(ctx), Modularize().evaluate(ctx)]

    assert [f.rule for r in results for f in r.findings] == []
    assert results[1].metrics["unscanned_modules"] == 0


def test_a_module_grimp_panics_on_is_unscannable_for_gate_m_only(tmp_path: Path) -> None:
    # Valid Python (it fails only when imported); grimp's Rust scanner panics on it.
    repo = _broken_repo(tmp_path / "r", b"from .......... import nothing\n")

    run = swarm_process(repo, "gates", "--json")

    assert run.returncode == 0, run.stderr
    assert _crash_logs(repo) == []
    found = [(g["key"], f["file"], f["rule"]) for g in json.loads(run.stdout)["gates"] for f in g["findings"]]
    assert found == [("M", "pkg/a.py", "unscannable")]


def test_gate_m_gives_the_same_findings_warm_and_cold(tmp_path: Path) -> None:
    repo = _broken_repo(tmp_path / "r", BROKEN["a syntax error"][0])
    (repo / "pkg/c.py").write_text("from pkg import a\n")  # another module changed, scanned fine
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--amend", "--no-edit")

    def judge(cached: bool) -> GateResult:
        with GateContext.between(repo, "HEAD~1", "HEAD", Gates(), cached=cached) as ctx:
            return Modularize().evaluate(ctx)

    cold = judge(cached=False)
    assert judge(cached=True) == cold  # fills the per-blob import cache
    assert judge(cached=True) == cold  # every good module from it; the broken one scanned again
    assert cold.metrics["unscanned_modules"] == 1
    assert [(f.file, f.line, f.rule) for f in cold.findings] == [("pkg/a.py", 3, "syntax-error")]


def test_a_module_broken_at_base_and_fixed_is_not_blamed(tmp_path: Path) -> None:
    repo = _broken_repo(tmp_path / "r", BROKEN["a syntax error"][0])
    (repo / "pkg/a.py").write_text(PACKAGE["pkg/a.py"])
    git(repo, "commit", "-qam", "fixed")

    with GateContext.between(repo, "HEAD~1", "HEAD", Gates(), cached=False) as ctx:
        results = [Improve().evaluate(ctx), Modularize().evaluate(ctx)]

    assert [f for r in results for f in r.findings if f.rule == "syntax-error"] == []


def test_implement_rejects_an_agents_syntax_error_and_spawns_a_fix_as_usual(tmp_path: Path) -> None:
    # A script agent writes broken Python; the spawned fix task has no commands, changes
    # nothing, and the run ends for want of a fix. Gate-I and Gate-M both report the syntax
    # error: one fix task, though the budget allows more.
    plan = task_md("T01", "broken", touches="`pkg/a.py`", runs=("printf 'def f(:\\n' > pkg/a.py",))
    files = {"README.md": "# r\n", **PACKAGE}
    repo = track_repo(tmp_path / "r", plan, files=files, config="[spawn]\nbudget = 3\n")
    main = git(repo, "rev-parse", "main").stdout

    result = swarm(repo, "implement", "t")

    out = result.output
    assert result.exit_code == 1, out
    assert "REJECTED" in out and "task SC-01 spawned: Fix" in out
    assert "I pkg/a.py:1: syntax-error" in out and "M pkg/a.py:1: syntax-error" in out
    assert "no new fix task can be spawned" in out
    plan_md = (repo / "swarm/tracks/t/plan.md").read_text()
    assert "**Dedup key:** gate:I:pkg/a.py" in plan_md and "**SC-02**" not in plan_md
    assert _crash_logs(repo) == []
    assert git(repo, "rev-parse", "main").stdout == main
    report = (repo / "swarm/tracks/t/iosm_report.md").read_text()
    assert "Verdict: **REJECTED**" in report
    assert "- `pkg/a.py:1` **M** syntax-error" in report


# file -> its text at head -> (gate, line, rule) of the finding expected (None: no finding)
CONFIGS: dict[str, tuple[str, str, tuple[str, int, str] | None]] = {
    "pyproject: tool is not a table": ("pyproject.toml", "tool = 1\n", None),
    "pyproject: project is not a table": ("pyproject.toml", "project = 1\n", None),
    "pyproject: dependencies of the wrong shape": (
        "pyproject.toml",
        '[project]\nname = "x"\ndependencies = "abc"\n'
        'optional-dependencies = {a = 1, b = ["requests", 2]}\n'
        "[tool.poetry]\ndependencies = 1\ngroup = {a = 1}\n"
        "[tool.setuptools]\npackage-dir = 3\n",
        ("S", 4, "dependency-added"),
    ),
    "pyproject: not TOML": ("pyproject.toml", '[project]\nname = "x"\n[project\n', ("S", 3, "invalid-toml")),
    "import-linter: root_packages of the wrong shape": (
        "pyproject.toml",
        '[tool.importlinter]\nroot_packages = [["pkg"]]\n'
        '[[tool.importlinter.contracts]]\nname = "x"\ntype = "forbidden"\n',
        ("M", 0, "contract-invalid"),
    ),
    "import-linter: a contract naming a missing module": (
        "setup.cfg",
        "[importlinter]\nroot_packages =\n  pkg\n[importlinter:contract:x]\nname = x\n"
        "type = protected\nprotected_modules = pkg.b\nallowed_importers = pkg.missing\n",
        ("M", 0, "contract-invalid"),
    ),
    "import-linter: options of the wrong type": (
        "pyproject.toml",
        '[tool.importlinter]\nroot_packages = ["pkg"]\n[[tool.importlinter.contracts]]\n'
        'name = "x"\ntype = "forbidden"\nsource_modules = ["pkg.a"]\nforbidden_modules = [1]\n',
        ("M", 0, "contract-invalid"),
    ),
    "import-linter: not a config at all": (
        ".importlinter",
        "[importlinter\nroot_package = pkg\n",
        ("M", 0, "contract-invalid"),
    ),
}


@pytest.mark.parametrize("case", sorted(CONFIGS))
def test_gates_judge_a_config_file_of_any_shape_and_do_not_crash(tmp_path: Path, case: str) -> None:
    name, text, expected = CONFIGS[case]
    repo = make_repo(tmp_path / "r", PACKAGE)
    write(repo, name, text)
    write(repo, "pkg/a.py", PACKAGE["pkg/a.py"] + "\nLIMIT = 1\n")  # a package changed too
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "config")

    run = swarm(repo, "gates", "--json")

    assert run.exit_code in (0, 1), run.output
    assert _crash_logs(repo) == []
    data = json.loads(run.stdout)
    found = {
        (g["key"], f["line"], f["rule"]) for g in data["gates"] for f in g["findings"] if f["file"] == name
    }
    assert found == ({expected} if expected else set())


def test_an_int_literal_past_pythons_digits_limit_is_a_syntax_error_not_a_crash(tmp_path: Path) -> None:
    decimal = b"def f():\n    return " + b"9" * 5000 + b"\n"  # CPython refuses to compile it
    repo = _broken_repo(tmp_path / "r", decimal)
    with GateContext.between(repo, "HEAD~1", "HEAD", Gates(), cached=False) as ctx:
        result = Improve().evaluate(ctx)
    assert [(f.line, f.rule) for f in result.findings] == [(2, "syntax-error")]
    assert "4300 digits" in result.findings[0].message and result.score == 0.0
