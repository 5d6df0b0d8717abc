"""Pictures of a computation graph: DOT source, a Jupyter-ready Digraph, and SVG or PNG files.

`to_dot` (autograd/dot.py) needs no Graphviz at all; laying it out (autograd/layout.py) needs
pygraphviz or a `dot` program, and runs in a child process so that Ctrl-C always stops it.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

from autograd.dot import DEFAULT_MAX_NODES, RANKDIRS, GraphTooLarge, drawing_order, to_dot
from autograd.files import atomic_write
from autograd.layout import layout, svg_from_dot

if TYPE_CHECKING:
    import graphviz

    from autograd.value import Value

__all__ = [
    "DEFAULT_MAX_NODES",
    "RANKDIRS",
    "GraphTooLarge",
    "draw_dot",
    "drawing_order",
    "render_svg",
    "svg_from_dot",
    "to_dot",
    "write_picture",
]


def draw_dot(root: Value, *args, **kwargs) -> graphviz.Digraph:
    """The picture as a `graphviz.Digraph` (same arguments as `to_dot`) that shows inline.

    Its `pipe()`, `render()` and Jupyter display lay out with pygraphviz, so they need no
    system Graphviz, and its SVG scales to the notebook column.
    """
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            "draw_dot needs the graphviz Python package: pip install graphviz"
        ) from None
    source = to_dot(root, *args, **kwargs)
    body = source[source.index("{") + 2 : source.rindex("}")].splitlines(keepends=True)
    return _digraph_class(graphviz.Digraph)(body=body, format="svg")


def render_svg(root: Value, path: str | os.PathLike[str], *args, **kwargs) -> str:
    """Write the picture of the graph below `root` to `path` as SVG; return the path.

    Takes the same arguments as `to_dot`. The file is written at once when the layout is done,
    so an interrupted render leaves no file behind.
    """
    source = to_dot(root, *args, **kwargs)
    return write_picture(source, path, "svg")


def write_picture(source: str, path: str | os.PathLike[str], format: str) -> str:
    """Lay out DOT `source` as `format` and write it to `path` atomically; return the path."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot write {path}: it is a directory; name a file in it")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write {path}: directory {directory} does not exist")
    atomic_write(path, layout(source, format))
    return path


@functools.cache  # one class per Digraph class, so isinstance and copy() behave across calls
def _digraph_class(digraph: type) -> type:
    class PictureDigraph(digraph):
        """A Digraph laid out by scalargrad: `pipe()`, `render()` and inline display work
        without a system Graphviz, and SVG comes out responsive."""

        def pipe(
            self,
            format: str | None = None,
            renderer: str | None = None,
            formatter: str | None = None,
            neato_no_op=None,
            quiet: bool = False,
            *,
            engine: str | None = None,
            encoding: str | None = None,
        ):
            """The laid-out picture as bytes (or str with `encoding`), like graphviz's pipe."""
            _check_options(renderer, formatter, neato_no_op, engine)
            output = layout(self.source, format or self.format)
            return output if encoding is None else output.decode(encoding)

        def render(
            self,
            filename: str | os.PathLike[str] | None = None,
            directory: str | os.PathLike[str] | None = None,
            view: bool = False,
            cleanup: bool = False,
            format: str | None = None,
            renderer: str | None = None,
            formatter: str | None = None,
            neato_no_op=None,
            quiet: bool = False,
            quiet_view: bool = False,
            *,
            outfile: str | os.PathLike[str] | None = None,
            engine: str | None = None,
            raise_if_result_exists: bool = False,
            overwrite_source: bool = False,
        ) -> str:
            """Save the source and the picture, as graphviz's render does; return its path.

            The picture is laid out first and both files are written atomically, so an
            interrupted render leaves no file behind.
            """
            _check_options(renderer, formatter, neato_no_op, engine)
            directory = self.directory if directory is None else directory
            if outfile is not None:
                outfile = os.path.join(directory, os.fspath(outfile))
                format = format or os.path.splitext(outfile)[1].lstrip(".") or self.format
                source_path = os.path.splitext(outfile)[0] + ".gv"
                if filename is not None:
                    source_path = os.path.join(directory, os.fspath(filename))
                rendered = outfile
            else:
                format = format or self.format
                source_path = os.path.join(directory, os.fspath(filename or self.filename))
                rendered = f"{source_path}.{format}"
            if raise_if_result_exists and os.path.exists(rendered):
                raise FileExistsError(f"output file exists: {rendered}")
            if os.path.dirname(source_path):
                os.makedirs(os.path.dirname(source_path), exist_ok=True)
            picture = layout(self.source, format)
            if not cleanup:
                atomic_write(source_path, self.source)
            atomic_write(rendered, picture)
            if view or quiet_view:
                self._view(rendered, format=format, quiet=quiet_view)
            return rendered

    PictureDigraph.__qualname__ = "PictureDigraph"
    return PictureDigraph


def _check_options(renderer, formatter, neato_no_op, engine) -> None:
    """scalargrad's pictures are laid out by dot with its default renderer."""
    for name, value in (("renderer", renderer), ("formatter", formatter)):
        if value is not None:
            raise ValueError(
                f"{name}={value!r} is not supported by draw_dot pictures; leave it out"
            )
    if neato_no_op:
        raise ValueError("neato_no_op is not supported by draw_dot pictures; leave it out")
    if engine not in (None, "dot"):
        raise ValueError(f"draw_dot pictures are laid out by dot, not engine={engine!r}")
