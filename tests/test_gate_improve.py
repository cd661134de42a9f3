"""Gate-I on small real repositories: each change holds exactly the problem to find."""

from __future__ import annotations

from pathlib import Path

from swarmgit.gates.improve import Improve
from tests.gatecheck import commit_change, evaluate, where
from tests.gitutil import make_repo

# A function long enough to be a clone (> 100 tokens over > 10 code lines).
ORIGINAL = '''\
def summarise(orders, currency):
    """Totals per customer."""
    totals = {}
    for order in orders:
        customer = order["customer"]
        amount = order["amount"] * order["quantity"]
        if order.get("discount"):
            amount = amount - amount * order["discount"]
        if customer not in totals:
            totals[customer] = {"count": 0, "amount": 0}
        totals[customer]["count"] += 1
        totals[customer]["amount"] += amount
    report = []
    for customer, values in sorted(totals.items()):
        report.append(f"{customer}: {values['amount']:.2f} {currency}")
    return report
'''
# The same code with every identifier and literal renamed: still a duplicate.
RENAMED_COPY = (
    ORIGINAL.replace("summarise", "digest")
    .replace("totals", "acc")
    .replace("customer", "client")
    .replace('"amount"', '"sum"')
    .replace("orders", "rows")
    .replace("order", "row")
)


def _base(tmp_path: Path) -> Path:
    """A package with old debt: a duplicated pair, a mixedCase name, a magic number, a TODO."""
    debt = "def old(values):\n    oldName = values * 42  # TODO tidy\n    return oldName\n"
    return make_repo(
        tmp_path / "repo",
        {
            "pkg/__init__.py": "",
            "pkg/orders.py": ORIGINAL,
            "pkg/old_a.py": ORIGINAL.replace("summarise", "old_a"),
            "pkg/old_b.py": ORIGINAL.replace("summarise", "old_b") + "\n\n" + debt,
        },
    )


def test_a_pasted_renamed_copy_is_a_duplicate_and_old_copies_are_not(tmp_path: Path) -> None:
    repo = _base(tmp_path)
    commit_change(repo, {"pkg/digest.py": "import math\n\n\n" + RENAMED_COPY})

    result = evaluate(Improve(), repo)

    assert ("pkg/digest.py", 4, "duplicate-block") in where(result)
    assert {f.file for f in result.findings} == {"pkg/digest.py"}
    assert result.metrics["duplication_density"] > 0.5
    assert "10 code lines" in str(result.metrics["duplication_algorithm"])
    assert result.score < 0.8


def test_naming_magic_docstring_and_todo_on_changed_lines_only(tmp_path: Path) -> None:
    repo = _base(tmp_path)
    added = (
        "\n\ndef computeTotal(items):\n"
        "    # TODO handle refunds\n"
        "    if len(items) > 7:\n"
        "        return 0\n"
        "    return sum(items)\n"
    )
    commit_change(repo, {"pkg/orders.py": ORIGINAL + added})
    first = ORIGINAL.count("\n") + 3  # the def line

    result = evaluate(Improve(), repo)

    assert where(result) == {
        ("pkg/orders.py", first, "naming"),
        ("pkg/orders.py", first, "missing-docstring"),
        ("pkg/orders.py", first + 1, "todo-without-reference"),
        ("pkg/orders.py", first + 2, "magic-number"),
    }
    assert 0 < result.score < 1


def test_a_clean_change_scores_one(tmp_path: Path) -> None:
    repo = _base(tmp_path)
    added = (
        "\n\nMAX_ITEMS = 7\n\n\n"
        "def count_items(items, limit=10):\n"
        '    """How many items, capped at the limit."""\n'
        "    # TODO(#12): cap per customer\n"
        "    return min(len(items), limit, MAX_ITEMS)\n"
    )
    commit_change(repo, {"pkg/orders.py": ORIGINAL + added})

    result = evaluate(Improve(), repo)

    assert result.findings == ()
    assert result.applies and result.score == 1.0


def test_a_file_that_does_not_parse_fails_the_gate(tmp_path: Path) -> None:
    repo = _base(tmp_path)
    commit_change(repo, {"pkg/broken.py": "def ok():\n    return 1\n\ndef broken(:\n    pass\n"})

    result = evaluate(Improve(), repo)

    assert ("pkg/broken.py", 4, "syntax-error") in where(result)
    assert result.score == 0.0


def test_no_python_change_leaves_the_gate_out(tmp_path: Path) -> None:
    repo = _base(tmp_path)
    commit_change(repo, {"README.md": "# changed\n"})

    result = evaluate(Improve(), repo)

    assert not result.applies
