"""`git swarm report --html`: a self-contained page, checked in a real headless chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarmgit.domain.integration import Verdict
from swarmgit.domain.plan import Status
from swarmgit.domain.run_report import PredictedSlot, RunReport, TaskLine, render_html
from tests.browser import body_data, distinct_colours, render, screenshot
from tests.swarmrepo import swarm, task_md, track_repo

PLAN = (
    task_md("T01", "api", touches="`src/api/`", runs=("mkdir -p src/api && echo 'a = 1' > src/api/a.py",))
    + task_md("T02", "db", touches="`src/db/`", runs=("mkdir -p src/db && echo 'b = 1' > src/db/b.py",))
    + task_md("T03", "wire", deps="T01, T02", touches="`src/app.py`", runs=("echo 'x = 2' > src/app.py",))
)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = track_repo(tmp_path_factory.mktemp("report") / "r", PLAN, config="[gates]\nthreshold = 0.0\n")
    assert swarm(repo, "implement", "t").exit_code == 0
    out = repo.parent / "run.html"
    result = swarm(repo, "report", "t", "--html", str(out))
    assert result.exit_code == 0, result.output
    assert str(out) in result.output
    return out


def test_page_shows_the_integration_verdict_and_every_gate(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    assert "<span>APPROVED</span>" in html
    for gate in ("I Improve", "O Optimize", "M Modularize", "S Shrink"):
        assert f"<td>{gate}</td>" in html


def test_page_is_self_contained(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "no external assets"
    assert "<link" not in html
    assert "@import" not in html


def test_page_renders_in_chromium_with_one_bar_per_task_and_no_errors(page: Path) -> None:
    rendered = render(page)
    assert rendered.console == []
    assert body_data(rendered.dom, "errors") == "0"
    assert body_data(rendered.dom, "bars") == "3"
    assert body_data(rendered.dom, "predicted") == "3"
    for task in ("T01", "T02", "T03"):
        assert f'id="task-{task}"' in rendered.dom


def test_screenshot_is_not_blank(page: Path, tmp_path: Path) -> None:
    shot = screenshot(page, tmp_path / "shot.png")
    assert distinct_colours(shot) > 5


def test_lock_order_edges_are_dashed_and_findings_link_to_tasks() -> None:
    report = RunReport(
        track="t",
        base="abc",
        target="main",
        verdict=Verdict.APPROVED,
        tasks=(
            TaskLine("T01", "a", Status.DONE, start_s=0, end_s=2),
            TaskLine("T02", "b", Status.DONE, start_s=2, end_s=3, after=("T01",)),
        ),
        predicted=(PredictedSlot("T01", 0, 1), PredictedSlot("T02", 1, 2)),
    )
    html = render_html(report)
    assert 'class="edge lock"' in html
    assert html.count('class="bar real"') == 2


def test_a_gate_record_of_another_shape_counts_as_absent(tmp_path: Path) -> None:
    from swarmgit.engine.run_report import _gates

    record = tmp_path / "iosm_report.json"
    for text in (
        '{"gates": ["x"]}',
        '{"gates": [{"key": 1}]}',
        "[1, 2]",
        "\xff",
        '{"index": "9"}',
        '{"index": 1, "verdict": "<b>PASSED</b>"}',
        '{"index": 1, "verdict": ["APPROVED"]}',
    ):
        record.write_text(text)
        assert _gates(record) == ((), None, None)


def _review_cell(dom: str, task: str) -> str:
    row = re.search(rf'<tr id="task-{task}">(.*?)</tr>', dom)
    assert row, f"no row for {task}"
    return re.findall(r"<td>(.*?)</td>", row.group(1))[-1]


def test_review_column_shows_the_verdict_on_each_tasks_current_work(tmp_path: Path) -> None:
    config = "[gates]\nthreshold = 0.0\n[review]\nrequired = true\n"
    repo = track_repo(tmp_path / "r", PLAN, config=config)
    assert swarm(repo, "implement", "t").exit_code == 1  # held until every task is accepted
    assert swarm(repo, "accept", "T01", "--as", "Rita <r@x>").exit_code == 0
    assert swarm(repo, "reject", "T02", "-m", "name the table", "--as", "Rita <r@x>").exit_code == 0
    out = tmp_path / "run.html"
    assert swarm(repo, "report", "t", "--html", str(out)).exit_code == 0
    dom = render(out).dom
    assert _review_cell(dom, "T01") == "accepted"
    assert _review_cell(dom, "T02") == "rejected"
    assert _review_cell(dom, "T03") == "-"  # re-based: it runs again, nothing judged yet


# ---- the task graph's geometry ----------------------------------------------------------------

Box = tuple[float, float, float, float]


def _graph_geometry(html: str) -> tuple[dict[str, Box], list[tuple[str, str, list[tuple[float, float]]]]]:
    """The graph's boxes by task, and each edge's (source, target, points)."""
    boxes = {
        task: (float(x), float(y), float(w), float(h))
        for task, x, y, w, h in re.findall(
            r'<g class=node data-task="([^"]+)"><rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" '
            r'height="([\d.]+)"',
            html,
        )
    }
    edges = [
        (source, target, [(float(x), float(y)) for x, y in (p.split(",") for p in points.split())])
        for source, target, points in re.findall(r'data-edge="(\S+) (\S+)" points="([^"]+)"', html)
    ]
    return boxes, edges


def _crosses(a: tuple[float, float], b: tuple[float, float], box: Box) -> bool:
    """Whether the segment a-b enters the box's inside (Liang-Barsky clipping)."""
    x, y, w, h = box
    low, high = 0.0, 1.0
    dx, dy = b[0] - a[0], b[1] - a[1]
    for p, q in ((-dx, a[0] - x), (dx, x + w - a[0]), (-dy, a[1] - y), (dy, y + h - a[1])):
        if p == 0:
            if q <= 0:
                return False
        elif p < 0:
            low = max(low, q / p)
        else:
            high = min(high, q / p)
    return high - low > 1e-9


def _edges_through_other_boxes(tasks: tuple[TaskLine, ...]) -> list[str]:
    boxes, edges = _graph_geometry(render_html(RunReport("t", "abc", "main", None, tasks)))
    assert len(boxes) == len(tasks)
    assert len(edges) == sum(len(t.deps) + len(t.after) for t in tasks)
    return [
        f"{source}->{target} through {task}"
        for source, target, points in edges
        for a, b in zip(points, points[1:])
        for task, box in boxes.items()
        if task not in (source, target) and _crosses(a, b, box)
    ]


def test_an_edge_spanning_columns_goes_around_the_boxes_between() -> None:
    # T03 sits two columns right of T01, T02 between them on the same row: a straight
    # T01 -> T03 line would cross T02's box.
    tasks = (
        TaskLine("T01", "a", Status.DONE),
        TaskLine("T02", "b", Status.DONE, deps=("T01",)),
        TaskLine("T03", "c", Status.DONE, deps=("T01", "T02")),
        TaskLine("T04", "d", Status.TODO, deps=("T01",)),
        TaskLine("T05", "e", Status.TODO, deps=("T04",), after=("T03",)),
        TaskLine("T06", "f", Status.TODO, deps=("T01",), after=("T05",)),
    )
    assert _edges_through_other_boxes(tasks) == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(min_value=0, max_value=30), max_size=3), min_size=1, max_size=10))
def test_no_edge_ever_passes_through_another_tasks_box(picks: list[list[int]]) -> None:
    ids = [f"T{n:02d}" for n in range(len(picks))]
    tasks = tuple(
        TaskLine(
            ids[n],
            "x",
            Status.DONE,
            deps=tuple(sorted({ids[p % n] for p in chosen[:2]})) if n else (),
            after=tuple(sorted({ids[p % n] for p in chosen[2:]} - {ids[p % n] for p in chosen[:2]}))
            if n
            else (),
        )
        for n, chosen in enumerate(picks)
    )
    assert _edges_through_other_boxes(tasks) == []
