"""`scalargrad train`: the files it writes, the numbers it prints, CSV input and one-line errors."""

from __future__ import annotations

import json
import re
import sys

import pytest

from nn import load
from nn.cli import main, make_optimizer, read_csv
from nn.data import make_moons
from nn.optim import SGD, Adagrad, Adam, RMSprop
from tests.helpers import (
    FINAL,
    PNG_MAGIC,
    assert_one_error_line,
    final_numbers,
    hinge_and_accuracy,
    run_cli,
)


def test_train_moons_writes_model_and_plot_that_match_what_it_prints(tmp_path):
    finished = run_cli(
        "train", "--data", "moons", "--hidden", "8", "--epochs", "5", "--lr", "0.05",
        "--save", "m.json", "--plot", "b.png", cwd=tmp_path,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    assert "Traceback" not in finished.stderr
    assert "5/5" in finished.stderr  # the progress bar ran to the end
    loss, accuracy, samples = final_numbers(finished.stdout)
    model = load(tmp_path / "m.json")
    assert (model.nin, model.nouts, model.activation) == (2, [8, 1], "relu")
    X, y = make_moons(n=samples, noise=0.1, seed=0)
    expected_loss, expected_accuracy = hinge_and_accuracy(model, X, y)
    assert loss == pytest.approx(expected_loss, abs=1e-6)
    assert accuracy == pytest.approx(expected_accuracy, abs=1e-3)
    assert (tmp_path / "b.png").read_bytes().startswith(PNG_MAGIC)


def test_train_csv_with_header_and_three_features(tmp_path):
    rows = [[i % 3, (i * 7) % 5, i % 2, int(i % 3 > 0)] for i in range(12)]
    text = "a,b,c,label\n" + "\n".join(",".join(map(str, row)) for row in rows) + "\n"
    (tmp_path / "data.csv").write_text(text)
    finished = run_cli(
        "train", "--data", "data.csv", "--hidden", "4", "--epochs", "3", "--loss", "bce",
        "--save", "m.json", cwd=tmp_path,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    assert final_numbers(finished.stdout)[2] == 12
    assert load(tmp_path / "m.json").nin == 3
    assert json.loads((tmp_path / "m.json").read_text())["architecture"]["nouts"] == [4, 1]


def test_read_csv_header_blank_lines_and_int_labels(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("x,y,label\n\n1,2,0\n-0.5,3e-1,1.0\n2,2,2.5\n")
    X, y = read_csv(str(path))
    assert X == [[1.0, 2.0], [-0.5, 0.3], [2.0, 2.0]]
    assert y == [0, 1, 2.5] and [type(label) for label in y] == [int, int, float]


def test_read_csv_without_header_keeps_the_first_row(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("1,2,0\n3,4,1\n")
    assert read_csv(str(path)) == ([[1.0, 2.0], [3.0, 4.0]], [0, 1])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x,y,label\n1,2,0\n\n3,oops,1\n", "line 4: expected finite numbers"),
        ("1,2,0\n3,4\n", "line 2: expected 3 columns, got 2"),
        ("1,2,0\n3,nan,1\n", "line 2: expected finite numbers"),
        ("1,2,0\nx,y,z\n", "line 2: expected finite numbers"),
        ("nan,0.3,0\n1,2,1\n3,4,0\n", "line 1: expected finite numbers, got 'nan,0.3,0'"),
        ("\ufeffnan,0.3,0\n1,2,1\n", "line 1: expected finite numbers"),
        ("inf,0.3,0\n1,2,1\n", "line 1: expected finite numbers"),
        ("1\n2\n", "line 1: need at least 2 columns"),
        ("x,y,label\n", "has no data rows"),
        ("", "has no data rows"),
    ],
)
def test_read_csv_malformed_file_names_the_line(tmp_path, text, message):
    path = tmp_path / "d.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=re.escape(message)):
        read_csv(str(path))


@pytest.mark.parametrize(
    ("name", "cls", "settings"),
    [
        ("sgd", SGD, {"momentum": 0.0, "nesterov": False}),
        ("momentum", SGD, {"momentum": 0.9, "nesterov": False}),
        ("nesterov", SGD, {"momentum": 0.9, "nesterov": True}),
        ("adagrad", Adagrad, {}),
        ("rmsprop", RMSprop, {}),
        ("adam", Adam, {}),
    ],
)
def test_make_optimizer_maps_each_name_to_its_nn_optim_class(name, cls, settings):
    from autograd import Value

    optimizer = make_optimizer(name, [Value(1.0)], 0.125)
    assert type(optimizer) is cls
    assert optimizer.lr == 0.125
    for key, value in settings.items():
        assert getattr(optimizer, key) == value


@pytest.mark.parametrize(
    ("loss", "labels"), [("hinge", "0/1"), ("hinge", "-1/+1"), ("mse", "0/1"), ("bce", "0/1")]
)
def test_train_each_binary_loss_on_its_labels(tmp_path, monkeypatch, capsys, loss, labels):
    negative = -1 if labels == "-1/+1" else 0
    rows = [f"{i / 10},{(i * 3 % 7) / 7},{1 if i % 2 else negative}" for i in range(10)]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    monkeypatch.chdir(tmp_path)
    arguments = ["--data", "d.csv", "--loss", loss, "--hidden", "3", "--save", "m.json"]
    assert main(["train", *arguments, "--epochs", "2"]) == 0
    assert "(10 samples)" in capsys.readouterr().out
    assert (tmp_path / "m.json").exists()


def test_train_cross_entropy_on_spirals_has_one_output_per_class(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    arguments = ["train", "--data", "spirals", "--loss", "cross_entropy", "--hidden", "4"]
    assert main([*arguments, "--epochs", "1", "--plot", "s.png", "--save", "m.json"]) == 0
    assert load(tmp_path / "m.json").nouts == [4, 3]
    assert (tmp_path / "s.png").read_bytes().startswith(PNG_MAGIC)


def test_train_compiled_trains_or_says_why_in_one_line(tmp_path):
    arguments = ["--hidden", "4", "--epochs", "2", "--save", "m.json", "--compiled"]
    finished = run_cli("train", *arguments, cwd=tmp_path)
    if finished.returncode == 0:
        assert (tmp_path / "m.json").exists()
        assert FINAL.search(finished.stdout)
    else:
        assert finished.returncode == 2
        assert_one_error_line(finished.stderr)
        assert "compile" in finished.stderr


THREE_D = "1,2,3,0\n4,5,6,1\n"
BIG_LABEL = "1,2,1000000000\n3,4,0\n"
HUGE_LABEL = "1,2,1e300\n3,4,0\n"
GAP = "1,2,0\n3,4,2\n"
WIDE = "1e308,0.3,0\n-1e308,0.5,1\n"
MALFORMED = "x,y,label\n1,2,0\n3,,1\n"


@pytest.mark.parametrize(
    ("arguments", "files", "message"),
    [
        (["--data", "blobs"], {}, "unknown data set 'blobs'"),
        (["--data", "missing.csv"], {}, "cannot read missing.csv"),
        (["--data", "bad.csv"], {"bad.csv": MALFORMED}, "bad.csv line 3"),
        (["--data", "d3.csv", "--plot", "p.png"], {"d3.csv": THREE_D}, "--plot draws 2-D data"),
        (["--save", "nowhere/m.json"], {}, "does not exist"),
        (["--save", "."], {}, "is a directory"),
        (["--plot", "nowhere/p.png"], {}, "does not exist"),
        (["--epochs", "0"], {}, "--epochs: expected a positive integer"),
        (["--epochs", "-2"], {}, "--epochs: expected a positive integer"),
        (["--lr", "-0.1"], {}, "--lr: expected a positive number"),
        (["--lr", "0"], {}, "--lr: expected a positive number"),
        (["--lr", "inf"], {}, "--lr: expected a positive number"),
        (["--hidden"], {}, "--hidden: expected at least one argument"),
        (["--hidden", "4", "0"], {}, "--hidden: expected a positive integer"),
        (["--batch-size", "0"], {}, "--batch-size: expected a positive integer"),
        (["--loss", "l1"], {}, "invalid choice: 'l1'"),
        (["--optimizer", "lbfgs"], {}, "invalid choice: 'lbfgs'"),
        (["--activation", "gelu"], {}, "invalid choice: 'gelu'"),
        (["--data", "spirals", "--loss", "hinge"], {}, "use --loss cross_entropy"),
        (["--data", "f.csv", "--loss", "cross_entropy"], {"f.csv": BIG_LABEL}, "0, 1, ..., K-1"),
        (["--data", "f.csv", "--loss", "cross_entropy"], {"f.csv": HUGE_LABEL}, "K-1"),
        (["--data", "f.csv", "--loss", "cross_entropy"], {"f.csv": GAP}, "every class present"),
        (["--data", "f.csv", "--plot", "p.png"], {"f.csv": WIDE}, "--plot cannot draw feature 0"),
        (["--plot", "p.unknownext"], {}, "--plot p.unknownext: name the picture format"),
        (["--plot", "p"], {}, "name the picture format by its extension"),
        (["--save", ""], {}, "--save needs a file name"),
        (["--hidden", "100000", "100000"], {}, "MLP 2-100000-100000-1 has 10,000,500,001"),
        (["--plot", ""], {}, "--plot needs a file name"),
        (["--save", "m.png", "--plot", "./m.png"], {}, "--save and --plot name the same file"),
        (["--data", "f.csv", "--save", "f.csv"], {"f.csv": GAP}, "--data and --save name the same"),
        (["--data", "f.csv", "--plot", "f.csv"], {"f.csv": GAP}, "--data and --plot name the same"),
        (["--data", "f.csv", "--loss", "bce"], {"f.csv": "1,2,-1\n3,4,1\n"}, "labelled 0/1"),
        (
            ["--data", "f.csv", "--loss", "cross_entropy"],
            {"f.csv": "1,2,0.5\n3,4,1\n"},
            "needs class indices",
        ),
    ],
)
def test_train_bad_arguments_are_one_line_exit_2(tmp_path, arguments, files, message):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    finished = run_cli("train", "--epochs", "1", *arguments, cwd=tmp_path)
    assert finished.returncode == 2
    assert_one_error_line(finished.stderr)
    assert message in finished.stderr
    assert finished.stdout == ""  # refused before any training
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(files)  # and nothing written


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_train_unwritable_save_directory_is_one_line(tmp_path, capsys):
    import os

    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.access(locked, os.W_OK):
        pytest.skip("running as a user who can write anywhere (root)")
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--epochs", "1", "--save", str(locked / "m.json")])
    assert exit_info.value.code == 2
    assert_one_error_line(capsys.readouterr().err)


def test_train_csv_with_a_header_and_one_column_says_two_are_needed(tmp_path):
    (tmp_path / "one.csv").write_text("label\n1\n0\n")
    finished = run_cli("train", "--data", "one.csv", "--save", "m.json", cwd=tmp_path)
    assert finished.returncode == 2
    assert_one_error_line(finished.stderr)
    assert "need at least 2 columns" in finished.stderr
    assert not (tmp_path / "m.json").exists()


def test_read_csv_skips_a_byte_order_mark_and_keeps_a_numeric_first_row(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes("1,2,0\n3,4,1\n".encode("utf-8-sig"))
    assert read_csv(str(path)) == ([[1.0, 2.0], [3.0, 4.0]], [0, 1])
    path.write_bytes("x,y,label\n1,2,0\n".encode("utf-8-sig"))
    assert read_csv(str(path)) == ([[1.0, 2.0]], [0])


def test_train_without_save_writes_nothing_and_says_how_to_keep_the_model(tmp_path):
    (tmp_path / "model.json").write_text("an earlier model")
    finished = run_cli("train", "--hidden", "3", "--epochs", "1", cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr
    assert "not saved: add --save FILE" in finished.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]
    assert (tmp_path / "model.json").read_text() == "an earlier model"


def test_train_spirals_with_defaults_picks_cross_entropy_and_says_so(tmp_path):
    arguments = ["--data", "spirals", "--hidden", "4", "--epochs", "2", "--save", "m.json"]
    finished = run_cli("train", *arguments, cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr
    assert "loss cross_entropy, chosen for labels [0, 1, 2]" in finished.stdout
    assert load(tmp_path / "m.json").nouts == [4, 3]
    assert FINAL.search(finished.stdout)


def test_train_mse_on_real_valued_targets_reports_no_accuracy(tmp_path):
    rows = [f"{i / 10},{(i * 3 % 7) / 7},{i * 0.37 - 1:.2f}" for i in range(8)]
    (tmp_path / "r.csv").write_text("\n".join(rows) + "\n")
    for loss in ([], ["--loss", "mse"]):
        finished = run_cli("train", "--data", "r.csv", *loss, "--epochs", "2", cwd=tmp_path)
        assert finished.returncode == 0, finished.stderr
        assert "mse loss" in finished.stdout
        assert "accuracy" not in finished.stdout.replace("no accuracy", "")
        assert "no accuracy: the targets are real numbers" in finished.stdout
        assert "acc=" not in finished.stderr


def test_train_progress_bar_and_final_line_say_what_they_measure(tmp_path):
    finished = run_cli("train", "--hidden", "4", "--epochs", "3", cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr
    assert re.search(r"epoch mean loss=\S+ acc=\S+", finished.stderr)
    final = next(line for line in finished.stdout.splitlines() if FINAL.search(line))
    assert "of the trained model" in final and "the bar showed epoch means" in final


def test_train_save_over_an_existing_file_says_it_replaced_it(tmp_path):
    (tmp_path / "m.json").write_text("an earlier model")
    finished = run_cli("train", "--hidden", "3", "--epochs", "1", "--save", "m.json", cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr
    assert "wrote m.json (replacing the file that was there)" in finished.stdout
    assert load(tmp_path / "m.json").nouts == [3, 1]
