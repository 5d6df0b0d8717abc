"""The CLI's ways into seeing backprop: `graph --html/--explain`, `demo`'s steps.html, and
`--version` and a bare `scalargrad`."""

from __future__ import annotations

import json
import re

from autograd import Value, topological_order
from nn.seed_example import START, hand_gradients
from tests.helpers import REPOSITORY, assert_one_error_line, run_cli

FRAMES = re.compile(r'<script type="application/json" data-role="frames">(.*?)</script>', re.S)


def frames_in(path) -> list:
    return json.loads(FRAMES.search(path.read_text(encoding="utf-8")).group(1))["frames"]


def test_graph_html_writes_the_player_and_explain_prints_the_sum(tmp_path):
    finished = run_cli(
        "graph", "x*w + x", "--set", "x=2", "w=-3", "--html", "p.html", "--explain", "x",
        cwd=tmp_path,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    # d(x*w + x)/dx = w + 1 over two paths: through x*w (w) and straight (1)
    assert "the sum over 2 paths from x" in finished.stdout
    assert re.search(r"^  = -2$", finished.stdout, re.M), finished.stdout
    x, w = Value(2.0), Value(-3.0)
    interior = [node for node in topological_order(x * w + x) if node.parents]
    assert len(frames_in(tmp_path / "p.html")) == 1 + len(interior)


def test_graph_explain_unknown_name_is_one_error_line(tmp_path):
    finished = run_cli("graph", "x*w", "--set", "x=2", "w=3", "--explain", "q", cwd=tmp_path)
    assert finished.returncode == 2
    assert_one_error_line(finished.stderr)
    assert "--explain q" in finished.stderr and "w, x" in finished.stderr


def test_graph_html_in_missing_directory_fails_before_writing(tmp_path):
    finished = run_cli("graph", "x*2", "--set", "x=2", "--html", "no/p.html", cwd=tmp_path)
    assert finished.returncode == 2
    assert_one_error_line(finished.stderr)
    assert list(tmp_path.iterdir()) == []  # not even graph.svg


def test_graph_html_without_html_suffix_is_one_error_line_and_writes_nothing(tmp_path):
    finished = run_cli("graph", "x*2", "--set", "x=2", "--html", "steps.txt", cwd=tmp_path)
    assert finished.returncode == 2
    assert_one_error_line(finished.stderr)
    assert "--html" in finished.stderr and "'steps.txt' must end in .html" in finished.stderr
    assert list(tmp_path.iterdir()) == []


def test_graph_explain_too_many_paths_is_one_error_line(tmp_path):
    expression = "+".join(["x"] * 101)  # 101 paths from x
    finished = run_cli("graph", expression, "--set", "x=1", "--explain", "x", cwd=tmp_path)
    assert finished.returncode == 2
    assert_one_error_line(finished.stderr)
    assert "101 paths" in finished.stderr and "--explain x" in finished.stderr
    # in the command line's words: its user cannot pass max_paths or call backward_steps
    assert "--html" in finished.stderr and "max_paths" not in finished.stderr


def test_version_prints_the_projects_version(tmp_path):
    # pyproject.toml reads the version from autograd/__init__.py: the one place it is written.
    text = (REPOSITORY / "autograd" / "__init__.py").read_text()
    expected = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE).group(1)
    finished = run_cli("--version", cwd=tmp_path)
    assert finished.returncode == 0
    assert finished.stdout == f"scalargrad {expected}\n"


def test_bare_command_prints_usage_and_exits_2(tmp_path):
    finished = run_cli(cwd=tmp_path)
    assert finished.returncode == 2
    assert finished.stderr.startswith("usage: scalargrad")
    for command in ("demo", "train", "graph"):
        assert command in finished.stderr


def test_demo_writes_the_player_and_explains_w11(tmp_path):
    finished = run_cli("demo", "--out", "out", cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr
    frames = frames_in(tmp_path / "out" / "steps.html")
    assert len(frames) == 16  # frame 0 and the seed graph's 15 interior nodes
    w11 = hand_gradients(START)["w11"]
    assert f"dL/dw11 = dL/dy * dy/dh1 * dh1/dw11 = 0.7509 * 0.4 * 0.05 = {w11:.4g}" in (
        finished.stdout
    )
