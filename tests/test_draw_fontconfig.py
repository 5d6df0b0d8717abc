"""Rendering prints no fontconfig warnings on stderr, in a fresh process too."""

from __future__ import annotations

import os
import subprocess
import sys

from autograd import Value, render_svg
from tests.helpers import REPOSITORY, require


def test_render_svg_prints_nothing_on_stderr(tmp_path, capfd):
    require("pygraphviz")
    x = Value(2.0, label="x")
    render_svg(x * x, tmp_path / "g.svg")
    assert "Fontconfig" not in capfd.readouterr().err


def test_first_render_in_a_fresh_process_prints_nothing_on_stderr(tmp_path):
    # fontconfig warns while it initialises, once per process: only a fresh one shows it.
    require("pygraphviz")
    code = "from autograd import Value, render_svg; render_svg(Value(1.0) * 2, 'g.svg')"
    env = dict(os.environ, PYTHONPATH=str(REPOSITORY))
    finished = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stderr == ""
    assert (tmp_path / "g.svg").exists()
