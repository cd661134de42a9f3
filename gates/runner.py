"""Run the four gates on head against base, combine them into the IOSM-Index, render the result.

IOSM-Index = mean score of the gates that apply (1.0 when none does); the verdict is APPROVED
when index >= gates.threshold. A gate that does not apply is shown, with its reason, and never
counted. Rendering is separate from evaluation: a terminal table, the markdown gate section of
`iosm_report.md`, and a JSON-ready dict.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from swarmgit.config import Gates
from swarmgit.gates.base import Finding, Gate, GateContext, GateResult, rounded
from swarmgit.gates.improve import Improve
from swarmgit.gates.modularize import Modularize
from swarmgit.gates.optimize import Optimize
from swarmgit.gates.shrink import Shrink

GATES: tuple[Gate, ...] = (Improve(), Optimize(), Modularize(), Shrink())


@dataclass(frozen=True)
class GateReport:
    """Every gate's result, the IOSM-Index, and whether it reached the threshold."""

    results: tuple[GateResult, ...]
    index: float
    threshold: float
    passed: bool

    @property
    def verdict(self) -> str:
        """APPROVED or REJECTED, as iosm_report.md says it."""
        return "APPROVED" if self.passed else "REJECTED"


def run_gates(repo_path: Path, base: str, head: str, config: Gates) -> GateReport:
    """Every gate on head against base (revisions git understands); temp files are removed."""
    with GateContext.between(repo_path, base, head, config) as ctx:
        results = tuple(gate.evaluate(ctx) for gate in GATES)
    return combine(results, config.threshold)


def combine(results: Sequence[GateResult], threshold: float) -> GateReport:
    """The report for these results: index = mean of the applicable scores."""
    scores = [r.score for r in results if r.applies]
    index = rounded(sum(scores) / len(scores)) if scores else 1.0
    return GateReport(tuple(results), index, threshold, index >= threshold)


def to_json(report: GateReport) -> dict[str, object]:
    """The report as plain data (`git swarm gates --json`); a gate left out has score None."""
    return {
        "index": report.index,
        "threshold": report.threshold,
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
                f"{r.key} {r.name}", _score(r), f"{report.threshold:.2f}",
                _result(r, report.threshold), str(len(r.findings)), r.note,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1] for row in rows]
    lines = [line.rstrip() for line in lines]
    lines.append("")
    lines.append(
        f"IOSM-Index {report.index:.2f} (threshold {report.threshold:.2f}): {report.verdict}"
    )
    for r in report.results:
        lines.extend(f"  {r.key} {f.where}: {f.rule}: {_first_line(f.message)}" for f in r.findings)
    return "\n".join(lines)


def render_markdown(
    report: GateReport, task_of: Callable[[str], str | None] = lambda f: None
) -> str:
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
            f"| {r.key} {r.name} | {_score(r)} | {report.threshold:.2f} | {result} | "
            f"{len(r.findings)} |"
        )
    out += [
        "",
        f"**IOSM-Index:** {report.index:.2f} (threshold {report.threshold:.2f})"
        f" — **{report.verdict}**",
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
