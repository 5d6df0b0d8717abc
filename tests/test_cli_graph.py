"""`scalargrad graph`: the SVG it writes, what it prints, and one-line errors with exit status 2."""

import os

import pytest

from nn.cli import main
from tests.helpers import assert_one_error_line, run_cli, svg_texts

NEURON = ["tanh(x*w + b)", "--set", "x=2", "w=-3", "b=6.881373587019543"]


def test_graph_subprocess_writes_svg_and_prints_value_and_gradients(tmp_path):
    finished = run_cli("graph", *NEURON, "-o", "neuron.svg", cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr
    assert "Traceback" not in finished.stderr
    texts = svg_texts(tmp_path / "neuron.svg")
    # do/dn = 1 - tanh(n)**2 = 0.5, so do/dx = w/2, do/dw = x/2, do/db = 1/2
    assert {"x", "w", "b", "x*w", "x*w + b", "tanh(x*w + b)"} <= texts
    assert {"data 2.0000", "grad -1.5000", "grad 1.0000", "grad 0.5000", "data 0.7071"} <= texts
    assert finished.stdout.splitlines() == [
        "tanh(x*w + b) = 0.707107",
        "  d/db = 0.5",
        "  d/dw = 1",
        "  d/dx = -1.5",
        "wrote neuron.svg (6 values)",
    ]


def test_graph_subprocess_refuses_code_and_runs_nothing(tmp_path):
    target = tmp_path / "pwned"
    finished = run_cli("graph", f"__import__('os').system('touch {target}')", cwd=tmp_path)
    assert finished.returncode == 2
    assert_one_error_line(finished.stderr)
    assert not target.exists()
    assert os.listdir(tmp_path) == []  # and no SVG either


@pytest.mark.parametrize(
    "arguments",
    [
        ["graph", "2**2**2**2**2"],
        ["graph", "-" * 5000 + "x", "--set", "x=1"],
        ["graph", "x" * 10_001],
        ["graph"],
    ],
)
def test_graph_subprocess_errors_are_one_line_exit_2(tmp_path, arguments):
    finished = run_cli(*arguments, cwd=tmp_path)
    assert finished.returncode == 2
    assert_one_error_line(finished.stderr)
    assert finished.stdout == ""


def test_graph_in_process_writes_svg(tmp_path, capsys):
    output = tmp_path / "out.svg"
    assert main(["graph", "x*x + 3*x", "--set", "x=2", "-o", str(output), "--rankdir", "TB"]) == 0
    assert {"x", "x*x", "x*x + 3*x", "grad 7.0000", "3 *"} <= svg_texts(output)  # 2x + 3 = 7
    assert "d/dx = 7" in capsys.readouterr().out


def test_graph_expression_starting_with_minus_goes_after_double_dash(tmp_path, capsys):
    output = tmp_path / "neg.svg"
    assert main(["graph", "--set", "x=2", "-o", str(output), "--", "-x*x"]) == 0
    assert "d/dx = -4" in capsys.readouterr().out


HOSTILE = [
    "__import__('os').system('echo pwned')",
    "x.__class__",
    "x[0]",
    "lambda: 1",
    "[t for t in x]",
    "tanh(x=1)",
    "2**2**2**2**2",
    "9**9**9**9**9**9",
    "(" * 4000 + "x" + ")" * 4000,
    "-" * 5000 + "x",
    "x" * 10_001,
    "y + x",
    "log(x - 1)",
    "x\x00",
]


@pytest.mark.parametrize("expression", HOSTILE)
def test_graph_in_process_hostile_input_is_one_line_exit_2(tmp_path, capsys, expression):
    output = tmp_path / "graph.svg"
    with pytest.raises(SystemExit) as exit_info:
        main(["graph", expression, "--set", "x=1", "-o", str(output)])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert_one_error_line(captured.err)
    assert captured.out == ""
    assert not output.exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["bogus"], "invalid choice: 'bogus'"),
        (["graph"], "required: EXPR"),
        (["graph", "x", "--set", "x"], "--set expects NAME=NUMBER"),
        (["graph", "x", "--set", "x=one"], "'one' is not a number"),
        (["graph", "x", "--set", "x=1", "--max-nodes", "0"], "positive integer"),
        (["graph", "x", "--set", "x=1", "--rankdir", "XY"], "invalid choice: 'XY'"),
        (["graph", "x", "--set", "x=1", "--bogus"], "unrecognized arguments: --bogus"),
        (["graph", "x*x*x", "--set", "x=1", "--max-nodes", "2"], "larger --max-nodes"),
        (["graph", "x", "--set", "x=1", "-o", "missing/graph.svg"], "cannot write missing"),
        (["graph", "x", "--set", "x=1", "-o", "."], "must end in .svg or .png"),
        (["graph", "x", "--set", "x=1", "-o", "g.pdf"], "must end in .svg or .png"),
        (["graph", "x", "--set", "x=1", "--highlight", "y"], "--highlight y: not an input"),
        (["graph", "x", "--set", "x=1", "--collapse", "0"], "positive integer"),
    ],
)
def test_cli_bad_arguments_are_one_line_exit_2(tmp_path, monkeypatch, capsys, arguments, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(arguments)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert_one_error_line(err)
    assert message in err
    assert os.listdir(tmp_path) == []


def test_cli_help_exits_0(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["graph", "--help"])
    assert exit_info.value.code == 0
    assert "--set NAME=NUMBER" in capsys.readouterr().out


def test_graph_help_names_both_picture_formats_that_output_takes(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["graph", "--help"])
    assert exited.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "render it to SVG or PNG" in help_text
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "gradients, as SVG or PNG" in " ".join(capsys.readouterr().out.split())
