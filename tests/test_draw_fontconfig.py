"""Rendering SVG prints no fontconfig warnings, but passes every other stderr line through."""

from __future__ import annotations

import os
import subprocess
import sys

from autograd import Value, render_svg
from autograd.draw import _without_fontconfig_warnings
from tests.helpers import REPOSITORY


def test_fontconfig_lines_are_dropped_and_others_kept(capfd):
    with _without_fontconfig_warnings():
        os.write(2, b'Fontconfig warning: "x.conf", line 6: unknown element "reset-dirs"\n')
        os.write(2, b"Warning: a graphviz warning\n")
        os.write(2, b"Fontconfig error: another\n")
    assert capfd.readouterr().err == "Warning: a graphviz warning\n"


def test_render_svg_prints_nothing_on_stderr(tmp_path, capfd):
    x = Value(2.0, label="x")
    render_svg(x * x, tmp_path / "g.svg")
    assert "Fontconfig" not in capfd.readouterr().err


def test_first_render_in_a_fresh_process_prints_nothing_on_stderr(tmp_path):
    # fontconfig warns while it initialises, once per process: only a fresh one shows it.
    code = "from autograd import Value, render_svg; render_svg(Value(1.0) * 2, 'g.svg')"
    env = dict(os.environ, PYTHONPATH=str(REPOSITORY))
    finished = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stderr == ""
    assert (tmp_path / "g.svg").exists()
