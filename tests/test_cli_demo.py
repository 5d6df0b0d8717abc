"""`scalargrad demo`, run once for real: its table, its files, and its time budget."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from nn import load
from nn.cli import DEMO_DATA
from nn.data import make_moons
from nn.seed_example import START, hand_gradients
from tests.helpers import (
    PNG_MAGIC,
    assert_one_error_line,
    final_numbers,
    hinge_and_accuracy,
    run_cli,
    svg_texts,
)

LABELS = {*START, "x1", "x2", "t", "h1", "h2", "y", "L"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """(finished process, output directory) of one real `scalargrad demo --out out`."""
    cwd = tmp_path_factory.mktemp("demo")
    return run_cli("demo", "--out", "out", cwd=cwd), cwd / "out"


def test_demo_finishes_without_noise(demo):
    finished, _ = demo
    assert finished.returncode == 0, finished.stderr
    assert "Traceback" not in finished.stderr
    assert "Fontconfig" not in finished.stderr
    assert "fit: 100%" in finished.stderr  # the progress bar


def test_demo_table_shows_engine_gradients_equal_to_the_hand_formulas(demo):
    finished, _ = demo
    expected = hand_gradients(START)
    rows = {}
    for line in finished.stdout.splitlines():
        match = re.fullmatch(r"\s+(\w+)\s+(\S+)\s+.*\s(\S+)\s+(yes|NO)", line)
        if match:
            rows[match[1]] = (float(match[2]), float(match[3]), match[4])
    assert set(rows) == set(START)
    for name, (engine, hand, ok) in rows.items():
        assert engine == pytest.approx(expected[name], abs=1e-8)
        assert hand == pytest.approx(expected[name], abs=1e-8)
        assert ok == "yes"


def test_demo_graph_svg_parses_and_shows_every_label(demo):
    _, out = demo
    ET.parse(out / "graph.svg")
    assert LABELS <= svg_texts(out / "graph.svg")


def test_demo_model_json_predicts_what_the_demo_printed(demo):
    finished, out = demo
    loss, accuracy, samples = final_numbers(finished.stdout)
    X, y = make_moons(**DEMO_DATA)
    assert samples == len(X)
    model = load(out / "model.json")
    expected_loss, expected_accuracy = hinge_and_accuracy(model, X, y)
    assert loss == pytest.approx(expected_loss, abs=1e-6)
    assert accuracy == pytest.approx(expected_accuracy, abs=1e-3)
    assert accuracy >= 0.95


def test_demo_decision_boundary_is_a_png(demo):
    _, out = demo
    assert (out / "decision_boundary.png").read_bytes().startswith(PNG_MAGIC)


def test_demo_out_that_is_a_file_is_one_line_exit_2(tmp_path):
    (tmp_path / "out").write_text("not a directory")
    finished = run_cli("demo", "--out", "out", cwd=tmp_path)
    assert finished.returncode == 2
    assert_one_error_line(finished.stderr)
    assert "is a file" in finished.stderr


@pytest.mark.parametrize("out", ["", "file/results"])
def test_demo_out_that_cannot_be_made_says_so_in_the_users_words(tmp_path, out):
    # os.makedirs's "[Errno 2] No such file or directory: ''" named neither --out nor the cause
    (tmp_path / "file").write_text("not a directory")
    finished = run_cli("demo", "--out", out, cwd=tmp_path)
    assert finished.returncode == 2
    assert_one_error_line(finished.stderr)
    assert f"--out {out}" in finished.stderr and "Errno" not in finished.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["file"]


def test_demo_last_line_names_the_files_to_open_and_they_exist(demo):
    finished, out = demo
    named = re.findall(r"out[/\\][\w.]+", finished.stdout.splitlines()[-1])
    assert {name[4:] for name in named} == {"graph.svg", "steps.html", "decision_boundary.png"}
    for name in named:
        assert (out.parent / name).is_file()
