"""`scalargrad train --compiled`: the same saved weights as eager training from the same seed."""

from __future__ import annotations

import json

import pytest

from tests.helpers import final_numbers, run_cli


def flat_weights(path) -> list[float]:
    """Every number in the saved model's weights, in file order."""
    numbers = []
    stack = [json.loads(path.read_text())]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item[key] for key in sorted(item, reverse=True))
        elif isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, float):
            numbers.append(item)
    return numbers


@pytest.mark.parametrize(
    "arguments",
    [
        ["--data", "moons", "--loss", "hinge", "--batch-size", "30"],
        ["--data", "spirals", "--loss", "cross_entropy", "--optimizer", "sgd", "--lr", "0.1"],
    ],
    ids=["moons hinge minibatches", "spirals cross_entropy"],
)
def test_train_compiled_saves_the_eager_weights(tmp_path, arguments):
    common = ["train", *arguments, "--hidden", "6", "--epochs", "4", "--seed", "1"]
    eager = run_cli(*common, "--save", "eager.json", cwd=tmp_path)
    compiled = run_cli(*common, "--save", "compiled.json", "--compiled", cwd=tmp_path)
    assert eager.returncode == 0, eager.stderr
    assert compiled.returncode == 0, compiled.stderr
    assert "Traceback" not in compiled.stderr
    expected = flat_weights(tmp_path / "eager.json")
    assert len(expected) > 20
    assert flat_weights(tmp_path / "compiled.json") == pytest.approx(expected, rel=1e-9, abs=1e-12)
    eager_loss, eager_accuracy, _ = final_numbers(eager.stdout)
    compiled_loss, compiled_accuracy, _ = final_numbers(compiled.stdout)
    assert (compiled_loss, compiled_accuracy) == pytest.approx((eager_loss, eager_accuracy))
