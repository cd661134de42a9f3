"""The shared markdown scanner: CommonMark headings and fences, pipe-table rows."""

from __future__ import annotations

from swarmgit.domain.markdown import Heading, Kind, heading, headings, is_separator, kinds, split_row

T, H, F, C = Kind.TEXT, Kind.HEADING, Kind.FENCE, Kind.CODE


def test_atx_headings_need_a_space_and_at_most_three_spaces_of_indent() -> None:
    assert heading("# A") == Heading(0, 1, "A")
    assert heading("   ### B ###\r\n", 7) == Heading(7, 3, "B")
    assert heading("## C#") == Heading(0, 2, "C#")  # no space before the `#`: part of the title
    assert heading("#") == Heading(0, 1, "") and heading("# ##") == Heading(0, 1, "")
    assert [heading(line) for line in ("#A", "    # code", "####### seven", "- # item")] == [None] * 4


def test_fences_close_only_on_the_same_character_at_least_as_long() -> None:
    lines = ["```py", "# x", "~~~", "```` ", "## h", "~~~~", "```", "~~~", "~~~~~", "# y"]
    assert kinds(lines) == [F, C, C, F, H, F, C, C, F, H]


def test_a_backtick_fence_info_string_holds_no_backtick_and_an_unclosed_fence_runs_to_the_end() -> None:
    assert kinds(["```a`b", "# h"]) == [T, H]
    assert kinds(["   ~~~", "# x", "``` trailing", "# y"]) == [F, C, C, C]
    assert kinds(["    ```", "# h"]) == [T, H]  # four spaces: indented code, not a fence


def test_headings_skip_fenced_blocks() -> None:
    lines = ["# One", "```", "# not", "```", "text", "## Two ##"]
    assert headings(lines) == [Heading(0, 1, "One"), Heading(5, 2, "Two")]


def test_table_rows_and_separators() -> None:
    assert is_separator("| --- | :---: |") and is_separator("---|---")
    assert not is_separator("| a | b |")


def test_split_row_escapes_and_code_spans() -> None:
    assert split_row(r"| a \| b | `x|y` | c |") == ["a | b", "`x|y`", "c"]
    assert split_row("| a | |") == ["a", ""]
    assert split_row("a | b") == ["a", "b"]
    assert split_row(r"| a\\| b |") == ["a\\| b"]  # `\\|` is a backslash and a literal pipe
