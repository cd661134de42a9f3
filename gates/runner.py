"""Run the four gates on head against base, combine them into the IOSM-Index, render the result.

IOSM-Index = mean score of the gates that apply; the verdict is APPROVED when index >=
gates.threshold. A gate that does not apply is shown, with its reason, and never counted; when
none applies the index is "n/a" and the verdict is APPROVED because nothing the gates measure
changed (and says so). Results are cached by (base tree, head tree, gate config). Rendering is
separate from evaluation: a terminal table, the markdown gate section of
`iosm_report.md`, and a JSON-ready dict.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pygit2

from swarmgit.config import Gates
from swarmgit.domain.integration import Verdict
from swarmgit.gates.base import Finding, Gate, GateContext, GateResult, resolve_commit, rounded
from swarmgit.gates.cache import GateCache, cache_key, tree_id
from swarmgit.gates.improve import Improve
from swarmgit.gates.modularize import Modularize
from swarmgit.gates.optimize import Optimize
from swarmgit.gates.shrink import Shrink

GATES: tuple[Gate, ...] = (Improve(), Optimize(), Modularize(), Shrink())


@dataclass(frozen=True)
class GateReport:
    """Every gate's result, the IOSM-Index, and whether it reached the threshold. With no
    applicable gate, `applies` is False, `index` 1.0 (shown as n/a) and `passed` True."""

    results: tuple[GateResult, ...]
    index: float
    threshold: float
    passed: bool
    applies: bool = True

    @property
    def verdict(self) -> Verdict:
        """APPROVED or REJECTED, as iosm_report.md says it."""
        return Verdict.APPROVED if self.passed else Verdict.REJECTED

    @property
    def index_text(self) -> str:
        return f"{self.index:.2f}" if self.applies else "n/a"

    @property
    def reason(self) -> str:
        """Why the verdict is what it is, in words."""
        if not self.applies:
            return "no gate applied: nothing the gates measure changed (see each gate's note)"
        relation = "reaches" if self.passed else "is under"
        return f"IOSM index {self.index:.2f} {relation} the threshold {self.threshold:.2f}"


def run_gates(repo_path: Path, base: str, head: str, config: Gates, sandbox: str = "auto") -> GateReport:
    """Every gate on head against base (revisions git understands); temp files are removed.
    A (base tree, head tree, config) judged before is answered from the cache. `sandbox`
    (agent.sandbox) decides whether the test command, which runs agents' code, is fenced."""
    repo = pygit2.Repository(str(repo_path))
    base, head = resolve_commit(repo_path, base), resolve_commit(repo_path, head)
    cache = GateCache(repo_path)
    key = cache_key(tree_id(repo, base), tree_id(repo, head), config.model_dump(mode="json"))
    cached = _results_from_json(cache.get("gates", key))
    if cached is None:
        with GateContext.between(repo_path, base, head, config, sandbox=sandbox) as ctx:
            cached = tuple(gate.evaluate(ctx) for gate in GATES)
        cache.put("gates", key, {"results": [asdict(r) for r in cached]})
    return combine(cached, config.threshold)


def combine(results: Sequence[GateResult], threshold: float) -> GateReport:
    """The report for these results: index = mean of the applicable scores."""
    scores = [r.score for r in results if r.applies]
    if not scores:
        return GateReport(tuple(results), 1.0, threshold, True, applies=False)
    index = rounded(sum(scores) / len(scores))
    return GateReport(tuple(results), index, threshold, index >= threshold)


def _results_from_json(data: dict[str, Any] | None) -> tuple[GateResult, ...] | None:
    """Cached results back as values; None (a miss) when the entry is not of that shape."""
    if data is None:
        return None
    try:
        return tuple(
            GateResult(
                str(r["key"]),
                str(r["name"]),
                bool(r["applies"]),
                float(r["score"]),
                dict(r["metrics"]),
                tuple(Finding(**f) for f in r["findings"]),
                str(r["note"]),
            )
            for r in data["results"]
        )
    except (KeyError, TypeError, ValueError):
        return None


def to_json(report: GateReport) -> dict[str, object]:
    """The report as plain data (`git swarm gates --json`); a gate left out has score None."""
    return {
        "index": report.index if report.applies else None,
        "threshold": report.threshold,
        "reason": report.reason,
        "passed": report.passed,
        "verdict": report.verdict,
        "gates": [
            {
                "key": r.key,
                "name": r.name,
                "applies": r.applies,
                "score": r.score if r.applies else None,
                "passed": _gate_passed(r, report.threshold),
                "note": r.note,
                "metrics": dict(r.metrics),
                "findings": [asdict(f) for f in r.findings],
            }
            for r in report.results
        ],
    }


def render_table(report: GateReport) -> str:
    """A plain terminal table, one row per gate, then the index and verdict."""
    rows = [("Gate", "Score", "Threshold", "Result", "Findings", "Note")]
    for r in report.results:
        rows.append(
            (
                f"{r.key} {r.name}",
                _score(r),
                f"{report.threshold:.2f}",
                _result(r, report.threshold),
                str(len(r.findings)),
                r.note,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1] for row in rows]
    lines = [line.rstrip() for line in lines]
    lines.append("")
    lines += verdict_lines(report)
    for r in report.results:
        lines.extend(f"  {r.key} {f.where}: {f.rule}: {_first_line(f.message)}" for f in r.findings)
    return "\n".join(lines)


def render_markdown(report: GateReport, task_of: Callable[[str], str | None] = lambda f: None) -> str:
    """The gate section of iosm_report.md: table, index, verdict, measurements, findings
    (each with file:line and, when `task_of(file)` knows it, the task that introduced it)."""
    out = [
        "## Gates",
        "",
        "| Gate | Score | Threshold | Result | Findings |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in report.results:
        result = _result(r, report.threshold) + (f" ({r.note})" if r.note else "")
        out.append(
            f"| {r.key} {r.name} | {_score(r)} | {report.threshold:.2f} | {result} | {len(r.findings)} |"
        )
    out += [
        "",
        f"**IOSM-Index:** {report.index_text} (threshold {report.threshold:.2f}) — **{report.verdict}**",
        "",
        *verdict_lines(report)[1:],
        "",
        "### Measured",
        "",
    ]
    for r in report.results:
        measured = ", ".join(f"{k} = {v}" for k, v in r.metrics.items()) or "nothing measured"
        out.append(f"- **{r.key} {r.name}**: {measured}")
    findings = [f for r in report.results for f in r.findings]
    out += ["", "### Findings", ""]
    out += [_markdown_finding(f, task_of) for f in findings] or ["None."]
    return "\n".join(out) + "\n"


def verdict_lines(report: GateReport) -> list[str]:
    """The index and verdict, then why, in words a newcomer follows: the verdict is the mean
    of the gates that apply, so one gate under the threshold does not decide alone."""
    lines = [
        f"IOSM-Index {report.index_text} (threshold {report.threshold:.2f}): {report.verdict}",
        f"  because the {report.reason}" if report.applies else f"  because {report.reason}",
    ]
    low = [f"{r.key} {r.name}" for r in report.results if _gate_passed(r, report.threshold) is False]
    if low and report.passed:
        lines.append(
            f"  ({', '.join(low)} scored under the threshold on its own; the verdict is "
            "the mean of the gates that apply)"
        )
    return lines


def _markdown_finding(finding: Finding, task_of: Callable[[str], str | None]) -> str:
    task = task_of(finding.file) if finding.file else None
    head, _, rest = finding.message.partition("\n")
    line = f"- `{finding.where}` **{finding.gate}** {finding.rule}: {head}"
    if task:
        line += f" (introduced by {task})"
    if rest:
        block = "\n".join("    " + text for text in rest.splitlines())
        line += "\n\n    ```\n" + block + "\n    ```"
    return line


def _gate_passed(result: GateResult, threshold: float) -> bool | None:
    return result.score >= threshold if result.applies else None


def _score(result: GateResult) -> str:
    return f"{result.score:.2f}" if result.applies else "-"


def _result(result: GateResult, threshold: float) -> str:
    passed = _gate_passed(result, threshold)
    return "n/a" if passed is None else ("pass" if passed else "FAIL")


def _first_line(text: str) -> str:
    return text.partition("\n")[0]
