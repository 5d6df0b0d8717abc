"""The command line's argument traps: an expression after `--set` or starting with "-"."""

from __future__ import annotations

import pytest

from nn.cli import build_parser, expression_first
from tests.helpers import assert_one_error_line, run_cli


@pytest.mark.parametrize(
    ("arguments", "first_line", "gradient"),
    [
        (["--set", "x=2", "x*x"], "x*x = 4", "  d/dx = 4"),
        (["--set", "x=2", "w=-3", "x*w"], "x*w = -6", "  d/dx = -3"),
        (["-x*x", "--set", "x=3"], "-x*x = -9", "  d/dx = -6"),
        (["--set", "x=3", "-o", "g.svg", "-x*x"], "-x*x = -9", "  d/dx = -6"),
        (["-x", "--set", "x=1"], "-x = -1", "  d/dx = -1"),
        (["--set", "x=3", "--", "-x*x"], "-x*x = -9", "  d/dx = -6"),
        # argparse takes an abbreviated option; so must the search for the expression
        (["--se", "x=2", "x*x"], "x*x = 4", "  d/dx = 4"),
        (["--max-n", "9", "-x*x", "--set", "x=3"], "-x*x = -9", "  d/dx = -6"),
    ],
)
def test_graph_finds_the_expression_wherever_it_is(tmp_path, arguments, first_line, gradient):
    finished = run_cli("graph", *arguments, cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr
    lines = finished.stdout.splitlines()
    assert lines[0] == first_line
    assert gradient in lines
    assert len(list(tmp_path.glob("*.svg"))) == 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["x*x", "--bogus"], "unrecognized arguments: --bogus"),
        (["--set", "x=2"], "the following arguments are required: EXPR"),
        (["x*x*x*x*x", "--set", "x=2", "--max-nodes", "3"], "than --max-nodes 3"),
    ],
)
def test_graph_argument_errors_are_one_line_in_the_users_words(tmp_path, arguments, message):
    finished = run_cli("graph", *arguments, cwd=tmp_path)
    assert finished.returncode == 2
    assert_one_error_line(finished.stderr)
    assert message in finished.stderr
    assert "max_nodes" not in finished.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["x*x"], ["x*x"]),
        (["--set", "x=2", "x*x"], ["x*x", "--set", "x=2"]),
        (["-o", "a.svg", "-x"], [" -x", "-o", "a.svg"]),
        (
            ["-oa.svg", "--max-nodes=5", "--rankdir", "TB", "x"],
            ["x", "-oa.svg", "--max-nodes=5", "--rankdir", "TB"],
        ),
        (["--set", "x=2", "--", "-x"], ["--set", "x=2", "--", "-x"]),
        (["--set", "x=2"], ["--set", "x=2"]),
        (["--out", "a.svg", "x"], ["x", "--out", "a.svg"]),
        (["--ma=5", "x"], ["x", "--ma=5"]),
        (["--bogus", "x"], ["x", "--bogus"]),
    ],
)
def test_expression_first_moves_only_the_expression(arguments, expected):
    graph = build_parser().subcommands["graph"]
    assert expression_first(arguments, graph) == expected
