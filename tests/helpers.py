"""Helpers shared by the test files: running the CLI as a user would, and reading its output."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
SVG_TEXT = "{http://www.w3.org/2000/svg}text"


def run_cli(*arguments, cwd):
    """Run `python -m nn.cli ARGUMENTS` in a fresh process, as a user would."""
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(REPOSITORY), os.environ.get("PYTHONPATH", "")])
    )
    return subprocess.run(
        [sys.executable, "-m", "nn.cli", *arguments],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def svg_texts(path) -> set[str]:
    root = ET.parse(path).getroot()
    return {"".join(element.itertext()) for element in root.iter(SVG_TEXT)}


def assert_one_error_line(stderr: str) -> None:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("scalargrad: error: ")
    assert "Traceback" not in stderr


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FINAL = re.compile(r"final loss (\S+), accuracy (\S+)% \((\d+) samples\)")


def final_numbers(stdout: str) -> tuple[float, float, int]:
    """(loss, accuracy as a fraction, samples) from the "final loss ..." line."""
    loss, percent, samples = FINAL.search(stdout).groups()
    return float(loss), float(percent) / 100, int(samples)


def hinge_and_accuracy(model, X, y) -> tuple[float, float]:
    """Mean max(0, 1 - s (2y - 1)) and sign accuracy, written out by hand for 0/1 labels."""
    scores = [model(x).data for x in X]
    signs = [2 * label - 1 for label in y]
    hinge = sum(max(0.0, 1 - s * t) for s, t in zip(scores, signs, strict=True)) / len(y)
    accuracy = sum((s > 0) == (t > 0) for s, t in zip(scores, signs, strict=True)) / len(y)
    return hinge, accuracy


def require(module: str):
    """Import `module` for a test, or skip that test where it is missing; in CI a failure.

    The oracles (PyTorch, numpy, pygraphviz) may be absent on a user's machine, and their tests
    then skip with a reason; CI (`CI=true`) installs them, so there a missing one fails loudly.
    """
    import importlib

    import pytest

    if in_ci():
        return importlib.import_module(module)
    return pytest.importorskip(module)


def graph_programs():
    """A hypothesis strategy: (leaf values, steps) for `build_program`, with reuse and constants."""
    from hypothesis import strategies as st

    # Leaves in [-1, 1] keep ten steps of squaring and doubling below overflow (at most 2**512).
    leaf = st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False)

    @st.composite
    def programs(draw):
        leaves = draw(st.lists(leaf, min_size=1, max_size=4))
        steps = []
        for _ in range(draw(st.integers(1, 10))):
            available = len(leaves) + len(steps)
            op = draw(st.sampled_from(sorted(GRAPH_STEPS)))
            steps.append((op, [draw(st.integers(0, available - 1)) for _ in range(2)]))
        return leaves, steps

    return programs()


# Binary steps over two earlier nodes (the same node twice is reuse, as in a * a); the unary
# ones ignore their second operand, and the `_const` ones bring a constant into the graph.
GRAPH_STEPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "tanh": lambda a, b: a.tanh(),
    "relu": lambda a, b: a.relu(),
    "mul_const": lambda a, b: 1.5 * a,
    "pow_const": lambda a, b: a**2,
    "add_const": lambda a, b: a + 0.25,
}


def build_program(program):
    """(leaves, output) for a `graph_programs` example; the output is the last step's node."""
    from autograd import Value

    values, steps = program
    nodes = [Value(x, label=f"x{i}") for i, x in enumerate(values)]
    leaves = list(nodes)
    for op, (a, b) in steps:
        nodes.append(GRAPH_STEPS[op](nodes[a], nodes[b]))
    return leaves, nodes[-1]


def all_grads(output) -> dict:
    """Every node's .grad below `output`, to check that something left them alone."""
    from autograd import topological_order

    return {node: node.grad for node in topological_order(output)}


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def browser():
    """A headless Chromium driven by playwright (a context manager); skips where there is none.

    Outside CI a missing playwright or Chromium skips the test with the reason; in CI, where
    `.ci/run` installs Chromium, it fails.
    """
    import pytest

    sync_api = require("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        if in_ci():
            pytest.fail(
                f"no Chromium at {CHROMIUM}: .ci/run installs it (apt-get install chromium)"
            )
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")

    import contextlib

    @contextlib.contextmanager
    def launched():
        with sync_api.sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                yield chromium
            finally:
                chromium.close()

    return launched()


def run_in_threads(*functions):
    """Run each function in its own thread; re-raise the first exception."""
    errors = []

    def guarded(function):
        try:
            function()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(f,)) for f in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
