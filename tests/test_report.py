from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from swarmgit.domain.plan import Severity
from swarmgit.domain.report import (
    Report,
    SpawnCandidate,
    parse_report,
    render_report,
    report_from_commits,
)

SWARM_IOSM_REPORT = """\
# Subagent Report: Task T03 — Implement cache service

**Track:** redis-cache
**Status:** ✅ Complete
**Effort:** 2h

---

## Summary (What Was Done)

Added the cache service.

**Key deliverables:**
- cache service

## Files Touched

### Touches Planned (from brief)
```
backend/cache/
```

### Touches Actual (observed)
```
backend/cache/service.py
```

### Created
- `backend/cache/service.py` - the service
### Modified
- backend/config.py - cache settings
### Total impact
- Files created: [N]

## SpawnCandidates (v1.1.1 — MANDATORY)

| ID | Subtask | Touches | Effort | User Input | Severity | Dedup Key | Accept Criteria |
|----|---------|---------|--------|------------|----------|-----------|-----------------|
| SC-01 | Split a \\| b in the parser | `backend/auth.py` | S | false | medium | auth.py|type-annot | mypy passes |
| SC-02 | Clarify API contract | `docs/api.yaml`, `docs/x/` | M | true | high | `api_spec|contract` | approved |
| SC-03 | Template row | `path/to/file.py` | S/M/L | true/false | low/medium/high/critical | `file|intent` | x |
| SC-04 | Too few cells | `x.py` |

### SpawnCandidates Summary
- **Auto-spawn eligible:** 1
"""


def test_swarm_iosm_report_reads_with_warnings_for_bad_rows() -> None:
    report, warnings = parse_report(SWARM_IOSM_REPORT, "reports/T03.md")

    assert report.status == "done"
    assert report.summary == "Added the cache service.\n\n**Key deliverables:**\n- cache service"
    # planned touches are not touched files; prose list items are not paths
    assert report.files_touched == ("backend/cache/service.py", "backend/config.py")
    assert report.candidates == (
        SpawnCandidate(
            id="SC-01",
            subtask="Split a | b in the parser",
            touches=("backend/auth.py",),
            effort="S",
            user_input=False,
            severity=Severity.MEDIUM,
            dedup_key="auth.py|type-annot",
            accept="mypy passes",
        ),
        SpawnCandidate(
            id="SC-02",
            subtask="Clarify API contract",
            touches=("docs/api.yaml", "docs/x/"),
            effort="M",
            user_input=True,
            severity=Severity.HIGH,
            dedup_key="api_spec|contract",
            accept="approved",
        ),
    )
    assert [(w.path, w.line, w.level) for w in warnings] == [
        ("reports/T03.md", 41, "warning"),
        ("reports/T03.md", 42, "warning"),
    ]
    assert "User Input 'true/false'" in warnings[0].message
    assert "3 cells, the header has 8" in warnings[1].message


def test_table_without_id_column_is_a_warning_and_the_rest_is_kept() -> None:
    text = (
        "Status: partial\n\n## Summary\n\nhalf done\n\n## SpawnCandidates\n\n"
        "| Task | Subtask |\n|---|---|\n| x | y |\n"
    )
    report, warnings = parse_report(text, "r.md")

    assert report == Report(status="partial", summary="half done")
    assert len(warnings) == 1
    assert warnings[0].line == 9
    assert "no ID column" in warnings[0].message


def test_status_forms_and_missing_status() -> None:
    assert parse_report("- **Status**: Failed\n", "r")[0].status == "failed"
    assert parse_report("STATUS: blocked on the schema\n", "r")[0].status == "blocked"
    assert parse_report("The status quo: fine\n", "r")[0].status == "partial"

    report, warnings = parse_report("## Summary\n\nno status here\n", "r.md")
    assert report.status == "partial"
    assert "no 'Status:' line" in warnings[0].message

    report, warnings = parse_report("x\n**Status:** whatever\n", "r.md")
    assert report.status == "partial"
    assert warnings[0].line == 2 and "unknown status 'whatever'" in warnings[0].message


def test_short_table_without_dedup_column_gets_derived_keys() -> None:
    text = (
        "Status: done\n\n## SpawnCandidates\n\n"
        "| ID | Subtask | Touches | Effort | User Input | Severity |\n"
        "|----|---------|---------|--------|------------|----------|\n"
        "| SC-01 | Fix  Type errors | `auth.py` | S | false | medium |\n"
        "| SC-02 | Add tests | read-only | | no | |\n"
    )
    report, warnings = parse_report(text, "r.md")

    assert warnings == []
    assert [c.dedup_key for c in report.candidates] == ["auth.py|fix type errors", "|add tests"]
    assert report.candidates[1].touches == ()
    assert report.candidates[1].effort == "M"
    assert report.candidates[1].severity is Severity.MEDIUM


def test_fences_follow_commonmark_tildes_and_longer_closers_included() -> None:
    text = (
        "**Status:** done\n\n## Files Touched\n~~~text\nsrc/a.py\nsrc/b.py\n~~~\n"
        "## Summary\nDid it.\n````md\n## SpawnCandidates\n```\n| ID | Subtask |\n````\nMore.\n"
    )
    report, warnings = parse_report(text, "r.md")
    assert report.files_touched == ("src/a.py", "src/b.py")
    assert report.summary.endswith("More.") and report.candidates == ()
    assert warnings == []


def test_report_from_commits() -> None:
    report = report_from_commits("T04", ["a.py", "b/c.py", "a.py"], ["T04: add a\n\nbody", ""])
    assert report.status == "done"
    assert report.files_touched == ("a.py", "b/c.py")
    assert report.candidates == ()
    assert "T04 wrote no report; made from its 2 commit(s)" in report.summary
    assert "- T04: add a" in report.summary and "- (no message)" in report.summary
    assert parse_report(render_report(report), "r")[0] == report


def test_report_from_no_commits_claims_none() -> None:
    report = report_from_commits("T05", [], [])
    assert report.summary == "T05 wrote no report; it made no commits."


_CELL = (
    st.text(
        st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="`\n\r\u2028\u2029"),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(bool)
)
_PATH = st.from_regex(r"[a-z][a-z0-9_]{0,8}(/[a-z0-9_.*]{1,8}){0,3}/?", fullmatch=True)
_SUMMARY = st.lists(
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 ,.;:()'|\\-]{0,40}", fullmatch=True), max_size=4
).map(lambda lines: "\n".join(lines).strip())
_CANDIDATE = st.builds(
    SpawnCandidate,
    id=_CELL,
    subtask=_CELL,
    touches=st.lists(_PATH, max_size=3).map(tuple),
    effort=_CELL,
    user_input=st.booleans(),
    severity=st.sampled_from(Severity),
    dedup_key=_CELL,
    accept=_CELL,
)
_REPORT = st.builds(
    Report,
    status=st.sampled_from(["done", "failed", "blocked", "partial"]),
    summary=_SUMMARY,
    files_touched=st.lists(_PATH, unique=True, max_size=4).map(tuple),
    candidates=st.lists(_CANDIDATE, max_size=4).map(tuple),
)


@given(_REPORT)
def test_render_then_parse_is_identity(report: Report) -> None:
    parsed, warnings = parse_report(render_report(report), "r.md")
    assert warnings == []
    assert parsed == report
