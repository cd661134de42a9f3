"""The visual run report: one self-contained HTML file (no network, no external assets).

`render_html(report)` takes plain values and returns the page: the real run as a timeline
beside `simulate`'s prediction for the same plan, the task graph with lock-order edges (no
edge crosses another task's box), a per-task table, the gate table with findings linked to the
tasks that introduced them, and the spend over time. Charts are inline SVG; the one inline script
only counts what it drew (the
page's `data-bars` attribute) and records script errors (`data-errors`), so a headless browser
can check the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from swarmgit.domain.integration import Verdict
from swarmgit.domain.plan import Status
from swarmgit.domain.review import ReviewVerdict

BAR_HEIGHT = 18
CHART_WIDTH = 760
LABEL_WIDTH = 70
NODE_WIDTH = 64
NODE_HEIGHT = 26
COLUMN_GAP = 40  # between the graph's columns: the edges' diagonals run there
ROW_GAP = 14  # between a column's boxes: an edge spanning columns runs along one of these lanes
STATUS_COLOURS: dict[str, str] = {
    Status.DONE: "#3a9d5d",
    Status.FAILED: "#c0392b",
    Status.BLOCKED: "#a0522d",
    Status.RUNNING: "#2e86c1",
    Status.NEEDS_INPUT: "#b7950b",
}
OTHER_COLOUR = "#95a5a6"


@dataclass(frozen=True)
class TaskLine:
    """One task as the report shows it. Times are seconds since the run's first start."""

    id: str
    title: str
    status: Status
    start_commit: str = ""
    start_s: float | None = None
    end_s: float | None = None
    cost_usd: float = 0.0
    files: int = 0
    added: int = 0
    deleted: int = 0
    verdict: ReviewVerdict | None = None  # the review verdict on the task's current work
    deps: tuple[str, ...] = ()
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class PredictedSlot:
    task: str
    start_hours: float
    end_hours: float


@dataclass(frozen=True)
class GateLine:
    """A gate's row; `findings` are (file:line, message, task that introduced it or '')."""

    name: str
    score: float | None
    passed: bool | None
    findings: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class RunReport:
    track: str
    base: str
    target: str
    verdict: Verdict | None  # None: not integrated yet
    tasks: tuple[TaskLine, ...]
    predicted: tuple[PredictedSlot, ...] = ()
    predicted_makespan_hours: float = 0.0
    gates: tuple[GateLine, ...] = ()
    index: float | None = None
    spend: tuple[tuple[float, float], ...] = ()  # (seconds since first start, cumulative USD)
    notes: tuple[str, ...] = field(default=())


def render_html(report: RunReport) -> str:
    """The whole page as one string."""
    real = [(t.id, t.start_s, t.end_s, t.status) for t in report.tasks if t.start_s is not None]
    body = [
        f"<h1>swarm run: {escape(report.track)}</h1>",
        _summary(report),
        "<h2>Timeline: the real run</h2>",
        _timeline(
            "real",
            [(tid, s, e if e is not None else s, st) for tid, s, e, st in real if s is not None],
            unit="s",
        ),
        "<h2>Timeline: simulate's prediction for the same plan</h2>",
        _timeline(
            "predicted",
            [(p.task, p.start_hours, p.end_hours, "predicted") for p in report.predicted],
            unit="h",
        ),
        "<h2>Task graph</h2>",
        _graph(report.tasks),
        "<h2>Tasks</h2>",
        _task_table(report.tasks),
        "<h2>Gates</h2>",
        _gate_table(report),
        "<h2>Spend over time</h2>",
        _spend(report.spend),
    ]
    return _PAGE.format(
        title=escape(f"swarm run: {report.track}"), style=_STYLE, body="\n".join(body), script=_SCRIPT
    )


def _summary(report: RunReport) -> str:
    done = sum(1 for t in report.tasks if t.status is Status.DONE)
    cost = sum(t.cost_usd for t in report.tasks)
    items = [
        ("verdict", report.verdict or "not integrated yet"),
        ("tasks done", f"{done} of {len(report.tasks)}"),
        ("base", report.base[:12]),
        ("target", report.target or "-"),
        ("IOSM index", "-" if report.index is None else f"{report.index:.2f}"),
        ("cost", f"${cost:.4f}"),
        ("predicted makespan", f"{report.predicted_makespan_hours:.1f} h"),
    ]
    cells = "".join(f"<div><b>{escape(k)}</b><span>{escape(v)}</span></div>" for k, v in items)
    notes = "".join(f"<p class=note>{escape(n)}</p>" for n in report.notes)
    return f"<div class=summary>{cells}</div>{notes}"


def _timeline(kind: str, bars: Sequence[tuple[str, float, float, str]], unit: str) -> str:
    if not bars:
        return "<p class=empty>nothing to show</p>"
    span = max((end for _, _, end, _ in bars), default=0.0) or 1.0
    scale = (CHART_WIDTH - LABEL_WIDTH - 10) / span
    height = BAR_HEIGHT * len(bars) + 24
    rows = []
    for i, (task, start, end, status) in enumerate(bars):
        y = i * BAR_HEIGHT + 4
        x = LABEL_WIDTH + start * scale
        width = max(2.0, (end - start) * scale)
        colour = STATUS_COLOURS.get(status, OTHER_COLOUR if kind == "real" else "#7d3c98")
        label = f"{task}: {start:.1f}-{end:.1f}{unit} ({status})"
        rows.append(
            f'<text x="2" y="{y + 13}">{escape(task)}</text>'
            f'<rect class="bar {kind}" data-task="{escape(task)}" x="{x:.1f}" y="{y}" '
            f'width="{width:.1f}" height="{BAR_HEIGHT - 4}" fill="{colour}">'
            f"<title>{escape(label)}</title></rect>"
        )
    axis_y = height - 6
    anchors = ("start", "middle", "middle", "middle", "end")
    ticks = "".join(
        f'<text class=axis text-anchor="{anchors[q]}" x="{LABEL_WIDTH + span * q / 4 * scale:.1f}" '
        f'y="{axis_y}">{span * q / 4:.3g}{unit}</text>'
        for q in range(5)
    )
    return (
        f'<svg class="timeline {kind}" width="{CHART_WIDTH}" height="{height}" '
        f'role="img">{"".join(rows)}{ticks}</svg>'
    )


def _levels(tasks: Sequence[TaskLine]) -> dict[str, int]:
    """Each task's column: one more than the deepest of its deps and lock predecessors."""
    known = {t.id: t for t in tasks}
    level: dict[str, int] = {}

    def depth(task: str, seen: frozenset[str]) -> int:
        if task in level:
            return level[task]
        before = [p for p in (*known[task].deps, *known[task].after) if p in known and p not in seen]
        level[task] = 1 + max((depth(p, seen | {task}) for p in before), default=-1)
        return level[task]

    for t in tasks:
        depth(t.id, frozenset())
    return level


def _graph(tasks: Sequence[TaskLine]) -> str:
    if not tasks:
        return "<p class=empty>no tasks</p>"
    level = _levels(tasks)
    rows: dict[int, int] = {}
    where: dict[str, tuple[float, float]] = {}
    for t in tasks:
        column = level[t.id]
        row = rows.get(column, 0)
        rows[column] = row + 1
        where[t.id] = (10 + column * (NODE_WIDTH + COLUMN_GAP), 10 + row * (NODE_HEIGHT + ROW_GAP))
    width = max(x for x, _ in where.values()) + NODE_WIDTH + 20
    height = max(y for _, y in where.values()) + NODE_HEIGHT + 20
    edges = []
    for t in tasks:
        for kind, sources in (("dep", t.deps), ("lock", t.after)):
            for source in sources:
                if source in where:
                    points = " ".join(f"{x:g},{y:g}" for x, y in _edge_route(where[source], where[t.id]))
                    edges.append(
                        f'<polyline class="edge {kind}" data-edge="{escape(source)} {escape(t.id)}" '
                        f'points="{points}" marker-end="url(#arrow)"/>'
                    )
    nodes = []
    for t in tasks:
        x, y = where[t.id]
        colour = STATUS_COLOURS.get(t.status, OTHER_COLOUR)
        nodes.append(
            f'<g class=node data-task="{escape(t.id)}"><rect x="{x}" y="{y}" width="{NODE_WIDTH}" '
            f'height="{NODE_HEIGHT}" '
            f'rx="5" fill="{colour}"><title>{escape(t.id)}: {escape(t.title)}</title></rect>'
            f'<text x="{x + 8}" y="{y + 17}" fill="#fff">{escape(t.id)}</text></g>'
        )
    defs = (
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" '
        'markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>'
    )
    legend = "<p class=legend>solid: depends on · dashed: lock order (ran after, touches overlap)</p>"
    return (
        f'<svg class=graph width="{width}" height="{height}">{defs}{"".join(edges)}'
        f"{''.join(nodes)}</svg>{legend}"
    )


def _edge_route(source: tuple[float, float], target: tuple[float, float]) -> list[tuple[float, float]]:
    """An edge's points, from the source box's right side to the target box's left one (the
    target lies columns to the right). Between neighbouring columns it is straight, within the
    gap; one spanning columns runs from the gap after the source along the lane between two
    rows nearest its middle to the gap before the target, so it passes no other box."""
    (x1, y1), (x2, y2) = (
        (source[0] + NODE_WIDTH, source[1] + NODE_HEIGHT / 2),
        (target[0], target[1] + NODE_HEIGHT / 2),
    )
    if x2 - x1 <= COLUMN_GAP:
        return [(x1, y1), (x2, y2)]
    step = NODE_HEIGHT + ROW_GAP
    lane = 10 - ROW_GAP / 2 + step * max(0, round(((y1 + y2) / 2 - 10 + ROW_GAP / 2) / step))
    return [(x1, y1), (x1 + COLUMN_GAP / 2, lane), (x2 - COLUMN_GAP / 2, lane), (x2, y2)]


def _task_table(tasks: Sequence[TaskLine]) -> str:
    head = ("task", "title", "status", "start point", "duration", "cost", "files", "+/-", "review")
    rows = []
    for t in tasks:
        took = "-" if t.start_s is None or t.end_s is None else f"{t.end_s - t.start_s:.1f}s"
        cells = (
            t.id,
            t.title,
            t.status,
            t.start_commit[:10] or "-",
            took,
            f"${t.cost_usd:.4f}",
            str(t.files),
            f"+{t.added}/-{t.deleted}",
            t.verdict or "-",
        )
        rows.append(
            f'<tr id="task-{escape(t.id)}">' + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>"
        )
    return _table(head, rows)


def _gate_table(report: RunReport) -> str:
    if not report.gates:
        return "<p class=empty>the track has not been integrated yet</p>"
    rows = []
    for gate in report.gates:
        score = "n/a" if gate.score is None else f"{gate.score:.2f}"
        verdict = "n/a" if gate.passed is None else ("pass" if gate.passed else "FAIL")
        findings = "".join(
            f"<li><code>{escape(where)}</code> {escape(message)}"
            + (f' (<a href="#task-{escape(task)}">{escape(task)}</a>)' if task else "")
            + "</li>"
            for where, message, task in gate.findings
        )
        rows.append(
            f"<tr><td>{escape(gate.name)}</td><td>{score}</td><td>{verdict}</td>"
            f"<td><ul>{findings}</ul></td></tr>"
        )
    return _table(("gate", "score", "result", "findings"), rows)


def _spend(points: Sequence[tuple[float, float]]) -> str:
    if not points:
        return "<p class=empty>no token usage recorded</p>"
    width, height = CHART_WIDTH, 160
    span = max(p[0] for p in points) or 1.0
    top = max(p[1] for p in points) or 1.0
    coords = [
        (LABEL_WIDTH + s / span * (width - LABEL_WIDTH - 10), height - 20 - usd / top * (height - 40))
        for s, usd in points
    ]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in [(LABEL_WIDTH, height - 20), *coords])
    return (
        f'<svg class=spend width="{width}" height="{height}"><polyline points="{line}" '
        f'fill="none" stroke="#2e86c1" stroke-width="2"/><text x="2" y="20">${top:.4f}</text>'
        f'<text x="2" y="{height - 20}">$0</text><text class=axis x="{width - 60}" '
        f'y="{height - 4}">{span:.1f}s</text></svg>'
    )


def _table(head: Sequence[str], rows: Sequence[str]) -> str:
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; background: #fff; }
h1 { font-size: 22px; } h2 { font-size: 16px; margin-top: 28px; }
.summary { display: flex; flex-wrap: wrap; gap: 12px; }
.summary div { border: 1px solid #ddd; border-radius: 6px; padding: 6px 10px; }
.summary b { display: block; font-size: 11px; color: #666; text-transform: uppercase; }
svg text { font-size: 11px; } .axis { fill: #666; }
.edge { stroke: #555; stroke-width: 1.5; fill: none; } .edge.lock { stroke-dasharray: 5 4; }
table { border-collapse: collapse; } td, th { border: 1px solid #ddd; padding: 4px 8px; }
th { background: #f4f4f4; text-align: left; } .empty, .legend, .note { color: #666; }
ul { margin: 0; padding-left: 18px; }
"""

_SCRIPT = """
window.addEventListener('error', function () {
  var n = Number(document.body.dataset.errors || 0); document.body.dataset.errors = n + 1;
});
document.addEventListener('DOMContentLoaded', function () {
  document.body.dataset.bars = document.querySelectorAll('rect.bar.real').length;
  document.body.dataset.predicted = document.querySelectorAll('rect.bar.predicted').length;
  document.body.dataset.errors = document.body.dataset.errors || 0;
});
"""

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>{style}</style><script>{script}</script></head>
<body>
{body}
</body></html>
"""
