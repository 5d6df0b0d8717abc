"""Lay out DOT source into SVG or PNG bytes, in a child process that Ctrl-C can stop.

pygraphviz (whose wheels bundle Graphviz) lays out in a fresh Python process; without it, the
Graphviz `dot` program on PATH does. Graphviz runs in C and ignores signals, so the layout is
never run in this process: on KeyboardInterrupt (or any exception) the child is killed at once.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from importlib.util import find_spec

INSTALL_HINT = (
    "drawing needs Graphviz: run `pip install pygraphviz` (its wheels bundle Graphviz), "
    "or install the Graphviz `dot` program and put it on PATH"
)

# Runs in the child: DOT on stdin, the picture on stdout.
_PYGRAPHVIZ_WORKER = (
    "import sys, pygraphviz\n"
    "graph = pygraphviz.AGraph(string=sys.stdin.buffer.read().decode('utf-8'))\n"
    "sys.stdout.buffer.write(graph.draw(format=sys.argv[1], prog='dot'))\n"
)
_SVG_SIZE = re.compile(rb'<svg width="([\d.]+)pt" height="([\d.]+)pt"')


def layout(source: str, format: str = "svg") -> bytes:
    """DOT `source` laid out by Graphviz's dot, as `format` bytes ("svg", "png", "pdf", ...).

    SVG comes out responsive (see `responsive_svg`). Raises RuntimeError if Graphviz fails or
    is missing; KeyboardInterrupt kills the layout within a moment.
    """
    if find_spec("pygraphviz") is not None:
        command = [sys.executable, "-c", _PYGRAPHVIZ_WORKER, format]
    else:
        dot = shutil.which("dot")
        if dot is None:
            raise RuntimeError(INSTALL_HINT)
        command = [dot, f"-T{format}"]
    process = subprocess.Popen(  # noqa: S603 - a fixed program fed our own DOT on stdin
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        output, errors = process.communicate(source.encode("utf-8"))
    except BaseException:
        process.kill()  # Ctrl-C, SIGTERM turned into an exception, ...: stop the C layout now
        process.wait()
        raise
    messages = [
        line
        for line in errors.decode("utf-8", "replace").splitlines()
        # The fontconfig inside pygraphviz's wheels is older than many systems' configuration
        # and warns about it on every first render; the fonts still work.
        if line.strip() and not line.startswith("Fontconfig")
    ]
    if process.returncode != 0 or not output:
        detail = "; ".join(messages) or f"exit status {process.returncode}"
        raise RuntimeError(f"Graphviz could not lay out the picture: {detail}")
    if messages:
        sys.stderr.write("\n".join(messages) + "\n")
    return responsive_svg(output) if format == "svg" else output


def svg_from_dot(source: str) -> str:
    """DOT `source` as responsive SVG text (no system Graphviz needed; interruptible)."""
    return layout(source, "svg").decode("utf-8")


def responsive_svg(svg: bytes) -> bytes:
    """`svg` scaled to its container: width 100%, no fixed height, max-width its natural width.

    Graphviz already writes a viewBox, which keeps the proportions.
    """
    match = _SVG_SIZE.search(svg)
    if match is None:
        return svg
    width = match.group(1)
    return (
        svg[: match.start()]
        + b'<svg width="100%" style="max-width: '
        + width
        + b'pt; height: auto"'
        + svg[match.end() :]
    )
