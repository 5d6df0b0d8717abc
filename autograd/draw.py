"""Pictures of a computation graph: DOT source, a Jupyter-ready Digraph, and SVG files.

`to_dot` needs no Graphviz at all; SVG comes from pygraphviz (which bundles Graphviz and lays
out in-process) or, failing that, from a `dot` executable on PATH.
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from collections.abc import Iterator
from typing import TYPE_CHECKING

from autograd.engine import topological_order
from autograd.ops import OPS
from autograd.value import Value

if TYPE_CHECKING:
    import graphviz

RANKDIRS = ("LR", "RL", "TB", "BT")

# How an op node reads; a binary op with a constant input shows it in place, e.g. "* 3".
_SYMBOLS = {op.name: op.symbol for op in OPS.values()}

# Characters that structure a record label; a backslash in front makes each one literal.
_RECORD_SPECIALS = frozenset('{}|<>"\\')

_INSTALL_HINT = (
    "rendering SVG needs Graphviz: run `pip install pygraphviz` (its wheels bundle Graphviz), "
    "or install the Graphviz `dot` program and put it on PATH"
)


def to_dot(root: Value, rankdir: str = "LR", show_grad: bool = True, max_nodes: int = 2000) -> str:
    """DOT source for the graph below `root`: a record per Value, a small node per op."""
    return "digraph {\n" + "".join(_body_lines(root, rankdir, show_grad, max_nodes)) + "}\n"


def draw_dot(
    root: Value, rankdir: str = "LR", show_grad: bool = True, max_nodes: int = 2000
) -> graphviz.Digraph:
    """The graph below `root` as a `graphviz.Digraph` that shows inline in Jupyter as SVG."""
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            "draw_dot needs the graphviz Python package: pip install graphviz"
        ) from None
    lines = _body_lines(root, rankdir, show_grad, max_nodes)
    return _inline_digraph_class(graphviz.Digraph)(body=lines)


def render_svg(
    root: Value,
    path: str | os.PathLike[str],
    rankdir: str = "LR",
    show_grad: bool = True,
    max_nodes: int = 2000,
) -> str:
    """Write the picture of the graph below `root` to `path` as SVG; return the path."""
    source = to_dot(root, rankdir, show_grad, max_nodes)
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot write {path}: it is a directory; name a file in it")
    # Write to a temporary file beside `path`, then rename: a bad directory fails before the
    # (slow) layout, and a failed render never leaves a half-written file at `path`.
    temporary = f"{path}.{secrets.token_hex(4)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(temporary, flags, 0o666)  # the usual umask applies
    except OSError as error:
        raise type(error)(f"cannot write {path}: {error.strerror}") from None
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(svg_from_dot(source))
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return path


def svg_from_dot(source: str) -> bytes:
    """Lay out DOT `source` and return SVG bytes, with pygraphviz or else the `dot` program."""
    try:
        import pygraphviz
    except ImportError:
        pygraphviz = None
    if pygraphviz is not None:
        with _without_fontconfig_warnings():
            return pygraphviz.AGraph(string=source).draw(format="svg", prog="dot")
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(_INSTALL_HINT)
    finished = subprocess.run(  # noqa: S603 - a fixed program fed our own DOT on stdin
        [dot, "-Tsvg"], input=source.encode("utf-8"), capture_output=True, check=False
    )
    if finished.returncode != 0:
        message = finished.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"{dot} -Tsvg failed: {message}")
    return finished.stdout


@contextlib.contextmanager
def _without_fontconfig_warnings() -> Iterator[None]:
    """Hold back the C-level stderr of the block, then pass on all but fontconfig's warnings."""
    # The fontconfig inside pygraphviz's wheels is older than many systems' font configuration
    # and complains about it on file descriptor 2 (e.g. unknown element "reset-dirs") on every
    # first render; the fonts still work. Graphviz's own warnings go through untouched.
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no usable stderr (e.g. pythonw): nothing to filter
        yield
        return
    try:
        with tempfile.TemporaryFile() as captured:
            os.dup2(captured.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
                captured.seek(0)
                lines = captured.read().decode("utf-8", "replace").splitlines(keepends=True)
                sys.stderr.write(
                    "".join(line for line in lines if not line.startswith("Fontconfig"))
                )
                sys.stderr.flush()
    finally:
        os.close(saved)


def _body_lines(root: Value, rankdir: str, show_grad: bool, max_nodes: int) -> list[str]:
    if not isinstance(root, Value):
        raise TypeError(f"root must be a Value, got {type(root).__name__}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int, got {max_nodes!r}")
    _check_size(root, max_nodes)
    order = topological_order(root)
    ids = {node: f"v{index}" for index, node in enumerate(order)}
    lines = [
        f"\tgraph [rankdir={rankdir}]\n",
        '\tnode [fontsize=12 fontname="Helvetica"]\n',
        "\tedge [arrowsize=0.6]\n",
    ]
    for node in order:
        fields = [f"data {_number(node.data)}"]
        if show_grad:
            fields.append(f"grad {_number(node.grad)}")
        if node.label:
            fields.insert(0, _escape_record(node.label))
        record = "|".join(fields)
        if rankdir in ("LR", "RL"):
            record = "{" + record + "}"  # braces turn a record's fields to run across the edges
        lines.append(f'\t{ids[node]} [label="{record}" shape=record]\n')
        if node.op:
            op_id = ids[node] + "_op"
            lines.append(
                f'\t{op_id} [label="{_op_text(node)}" shape=ellipse style=filled '
                'fillcolor="#eeeeee" fontsize=10 height=0.3 margin="0.05,0.02"]\n'
            )
            lines.append(f"\t{op_id} -> {ids[node]}\n")
            lines.extend(f"\t{ids[parent]} -> {op_id}\n" for parent in node.parents)
    return lines


def _check_size(root: Value, max_nodes: int) -> None:
    # Counting stops at max_nodes + 1, so a graph of 10**6 nodes is refused at once.
    seen = {root}
    stack = [root]
    while stack:
        for parent in stack.pop().parents:
            if parent not in seen:
                seen.add(parent)
                if len(seen) > max_nodes:
                    raise ValueError(
                        f"the graph has more than max_nodes={max_nodes} Values; pass a larger "
                        "max_nodes to draw it anyway (layout of big graphs is slow)"
                    )
                stack.append(parent)


def _op_text(node: Value) -> str:
    symbol = _SYMBOLS.get(node.op, node.op)
    left, right = _constant_inputs(node)
    if left is not None:
        return f"{_constant(left)} {symbol}"
    if right is not None:
        return f"{symbol} {_constant(right)}"
    return symbol


def _constant_inputs(node: Value) -> tuple[float | None, float | None]:
    """The op's inputs that are constants rather than Values (left, right), None where not."""
    # The engine keeps an op's inputs in _x/_y: a Value, a constant float, or None (no input).
    return tuple(None if isinstance(x, Value) else x for x in (node._x, node._y))


def _number(x: float) -> str:
    if x == 0 or 1e-4 <= abs(x) < 1e6 or x != x:
        return f"{x:.4f}"
    return f"{x:.4e}"


def _constant(x: float) -> str:
    return f"{x:.6g}"


def _escape_record(text: str) -> str:
    """`text` as a record field that Graphviz shows literally (runs of spaces become one)."""
    out = []
    for char in text.replace("\r\n", "\n").replace("\r", "\n"):
        if char in _RECORD_SPECIALS:
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")  # a line break in the picture
        elif char == "\t":
            out.append(" ")
        elif unicodedata.category(char) == "Cc":
            # Control characters are not allowed in SVG (XML); show them as escape codes.
            out.append("\\\\" + repr(char)[2:-1])
        else:
            out.append(char)
    return "".join(out)


@functools.cache  # one class per Digraph class, so isinstance and copy() behave across calls
def _inline_digraph_class(digraph: type) -> type:
    class InlineDigraph(digraph):
        """A Digraph whose Jupyter SVG comes from `svg_from_dot`: no system Graphviz needed.

        Its inherited `render()` and `pipe()` still run the `dot` program; `render_svg` does not.
        """

        def _repr_image_svg_xml(self) -> str:
            return svg_from_dot(self.source).decode("utf-8")

        def _repr_svg_(self) -> str:
            return self._repr_image_svg_xml()

    InlineDigraph.__qualname__ = "InlineDigraph"
    return InlineDigraph
