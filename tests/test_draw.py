"""Graph pictures: DOT structure, literal labels in real SVG, size limits and render backends."""

import math
import os
import shutil
import sys
import xml.etree.ElementTree as ET
from importlib.util import find_spec

import pytest

from autograd import Value, draw_dot, render_svg, to_dot
from autograd.draw import DEFAULT_MAX_NODES
from tests.helpers import require

SVG_TEXT = "{http://www.w3.org/2000/svg}text"


def svg_texts(svg: bytes | str) -> list[str]:
    """Every text element of an SVG document, as rendered strings."""
    if isinstance(svg, str):
        svg = svg.encode("utf-8")
    return ["".join(element.itertext()) for element in ET.fromstring(svg).iter(SVG_TEXT)]


def file_texts(path) -> list[str]:
    with open(path, "rb") as file:
        return svg_texts(file.read())


def neuron():
    """micrograd's example neuron o = tanh(x*w + b), with n = x*w + b = 0.8814 so o = 1/sqrt(2)."""
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.881373587019543, label="b")
    n = x * w + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o


@pytest.fixture
def no_dot_program(monkeypatch, tmp_path):
    """A PATH with no `dot` on it, as on a machine without system Graphviz."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)


@pytest.fixture
def no_pygraphviz(monkeypatch):
    monkeypatch.setitem(sys.modules, "pygraphviz", None)  # `import pygraphviz` now fails


def test_to_dot_neuron_has_a_box_per_value_and_a_node_per_op():
    pygraphviz = require("pygraphviz")
    graph = pygraphviz.AGraph(string=to_dot(neuron()))
    shapes = [graph.get_node(name).attr["shape"] for name in graph.nodes()]
    assert shapes.count("plain") == 6  # x, w, b, x*w, n, o
    assert shapes.count("ellipse") == 3  # *, +, tanh
    assert graph.number_of_edges() == 3 + 3 + 2  # each op: one edge per input, one out
    assert graph.graph_attr["rankdir"] == "LR"


def test_render_svg_neuron_shows_labels_data_and_hand_derived_grads(tmp_path):
    # do/dn = 1 - o**2 = 0.5; do/dx = w * 0.5, do/dw = x * 0.5, do/db = 0.5
    texts = file_texts(render_svg(neuron(), tmp_path / "neuron.svg"))
    for text in ["x", "data 2.0000", "grad -1.5000", "w", "grad 1.0000", "b", "grad 0.5000"]:
        assert text in texts
    assert f"data {1 / math.sqrt(2):.4f}" in texts
    assert {"*", "+", "tanh"} <= set(texts)


def test_to_dot_repeated_parent_draws_two_edges():
    pygraphviz = require("pygraphviz")
    a = Value(3.0, label="a")
    graph = pygraphviz.AGraph(string=to_dot(a * a))
    assert graph.number_of_edges() == 3


@pytest.mark.parametrize(
    ("build", "op_text"),
    [
        (lambda x: x * 3, "* 3"),
        (lambda x: 3 - x, "3 -"),
        (lambda x: x**2, "** 2"),
        (lambda x: 2**x, "2 **"),
        (lambda x: x / 4, "/ 4"),
        (lambda x: x.leaky_relu(0.2), "leaky_relu 0.2"),
        (lambda x: -x, "neg"),
        (lambda x: abs(x), "abs"),
    ],
)
def test_render_svg_shows_constants_in_the_op_node(tmp_path, build, op_text):
    out = build(Value(1.5, label="x"))
    assert len(out.parents) == 1  # the constant is not a node
    assert op_text in file_texts(render_svg(out, tmp_path / "op.svg"))


@pytest.mark.parametrize(
    "label",
    [
        '{ } | < > " \\',
        "{x|y}",
        "<port>",
        'say "hi"',
        "back\\slash",
        "ends with \\",
        "\\N \\G \\n \\l",
        "∂L/∂w — héllo ✓",
        "a&b;<c>",
    ],
)
def test_render_svg_shows_label_text_literally(tmp_path, label):
    x = Value(1.0, label=label)
    out = x * 2
    out.label = "out"
    texts = file_texts(render_svg(out, tmp_path / "label.svg"))
    assert label in texts
    assert "out" in texts


def test_render_svg_label_newline_is_a_line_break(tmp_path):
    x = Value(1.0, label="first|line\nsecond {line}")
    texts = file_texts(render_svg(x, tmp_path / "lines.svg"))
    assert "first|line" in texts
    assert "second {line}" in texts


def test_render_svg_label_control_characters_keep_the_svg_valid(tmp_path):
    x = Value(1.0, label="bell\x07 nul\x00")
    texts = file_texts(render_svg(x, tmp_path / "control.svg"))
    assert "bell\\x07 nul\\x00" in texts


def test_to_dot_show_grad_false_leaves_out_grads(tmp_path):
    texts = file_texts(render_svg(neuron(), tmp_path / "g.svg", show_grad=False))
    assert "data 2.0000" in texts
    assert not [text for text in texts if text.startswith("grad")]


def test_to_dot_large_and_tiny_numbers_stay_short():
    dot = to_dot(Value(1e300, label="big") + Value(1e-9, label="tiny"))
    assert "data 1.0000e+300" in dot
    assert "data 1.0000e-09" in dot


def test_to_dot_rejects_graph_over_max_nodes():
    out = Value(1.0) * Value(2.0)
    assert "digraph" in to_dot(out, max_nodes=3)
    with pytest.raises(ValueError, match="larger max_nodes"):
        to_dot(out, max_nodes=2)


def test_to_dot_refuses_a_million_node_chain_quickly():
    chain = Value(0.0)
    for _ in range(10**6):
        chain = chain + 1.0
    with pytest.raises(ValueError, match=f"max_nodes={DEFAULT_MAX_NODES}"):
        to_dot(chain)


def test_to_dot_long_chain_needs_no_recursion():
    chain = Value(0.0, label="start")
    for _ in range(10**5):
        chain = chain.tanh()
    dot = to_dot(chain, max_nodes=10**6)
    assert dot.count("label=<<table") == 10**5 + 1
    assert dot.count("->") == 2 * 10**5


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"rankdir": "XY"}, ValueError),
        ({"max_nodes": 0}, ValueError),
        ({"max_nodes": 2.5}, TypeError),
        ({"collapse": 0}, ValueError),
        ({"highlight": 3.0}, TypeError),
        ({"highlight": Value(1.0)}, ValueError),
    ],
)
def test_to_dot_rejects_bad_arguments(arguments, error):
    with pytest.raises(error):
        to_dot(Value(1.0), **arguments)


def test_to_dot_rejects_a_non_value_root():
    with pytest.raises(TypeError, match="Value"):
        to_dot(3.0)


def test_to_dot_rankdir_is_passed_on():
    assert "rankdir=TB" in to_dot(neuron(), rankdir="TB")


def test_draw_dot_is_a_digraph_with_the_same_source():
    graphviz = require("graphviz")
    root = neuron()
    graph = draw_dot(root)
    assert isinstance(graph, graphviz.Digraph)
    assert graph.source == to_dot(root)
    assert isinstance(graph.copy(), type(graph))


def test_draw_dot_shows_inline_in_jupyter_without_dot_program(no_dot_program):
    formatters = require("IPython.core.formatters")
    data, _ = formatters.DisplayFormatter().format(draw_dot(neuron()))
    assert "data 2.0000" in svg_texts(data["image/svg+xml"])


def test_render_svg_without_dot_program_uses_pygraphviz(no_dot_program, tmp_path):
    require("pygraphviz")
    path = render_svg(neuron(), tmp_path / "graph.svg")
    assert path == str(tmp_path / "graph.svg")
    assert "grad -1.5000" in file_texts(path)
    assert os.listdir(tmp_path) == ["graph.svg"]  # no temporary file left behind


@pytest.mark.skipif(
    shutil.which("dot") is None, reason="the Graphviz `dot` program is not on PATH here"
)
def test_render_svg_uses_dot_program_without_pygraphviz(no_pygraphviz, tmp_path):
    path = render_svg(neuron(), tmp_path / "graph.svg")
    assert "grad -1.5000" in file_texts(path)


def test_render_svg_without_any_backend_says_what_to_install(
    no_pygraphviz, no_dot_program, tmp_path
):
    with pytest.raises(RuntimeError, match="pip install pygraphviz"):
        render_svg(neuron(), tmp_path / "graph.svg")
    assert os.listdir(tmp_path) == []  # neither the SVG nor a temporary file


def test_draw_dot_inline_without_any_backend_says_what_to_install(no_pygraphviz, no_dot_program):
    with pytest.raises(RuntimeError, match="pip install pygraphviz"):
        draw_dot(neuron())._repr_mimebundle_()


def test_draw_dot_without_graphviz_package_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(ImportError, match="pip install graphviz"):
        draw_dot(neuron())


def test_render_svg_into_missing_directory_fails_before_layout(tmp_path):
    with pytest.raises(FileNotFoundError, match="cannot write"):
        render_svg(neuron(), tmp_path / "missing" / "graph.svg")


def test_render_svg_replaces_an_existing_file(tmp_path):
    path = tmp_path / "graph.svg"
    path.write_text("old")
    render_svg(neuron(), path)
    assert "data 2.0000" in file_texts(path)


def fake_dot(directory, body: str) -> None:
    """Put an executable `dot` on PATH (in `directory`) whose Python code is `body`."""
    script = directory / "dot"
    script.write_text(f"#!{sys.executable}\nimport sys\n{body}\n")
    script.chmod(0o755)


@pytest.mark.skipif(os.name == "nt", reason="the fake `dot` is a POSIX script")
@pytest.mark.skipif(find_spec("pygraphviz") is None, reason="the fake `dot` needs pygraphviz")
def test_render_svg_feeds_dot_on_stdin_and_reads_svg(no_pygraphviz, monkeypatch, tmp_path):
    # Always exercises the `dot` branch: a stand-in `dot` lays out with pygraphviz in its own
    # process (the import is blocked only in this one).
    bin_directory = tmp_path / "bin"
    bin_directory.mkdir()
    fake_dot(
        bin_directory,
        "import pygraphviz\nassert sys.argv[1:] == ['-Tsvg']\n"
        "graph = pygraphviz.AGraph(string=sys.stdin.read())\n"
        "sys.stdout.buffer.write(graph.draw(format='svg', prog='dot'))",
    )
    monkeypatch.setenv("PATH", str(bin_directory))
    assert "grad -1.5000" in file_texts(render_svg(neuron(), tmp_path / "graph.svg"))


@pytest.mark.skipif(os.name == "nt", reason="the fake `dot` is a POSIX script")
def test_render_svg_reports_dot_program_failure(no_pygraphviz, monkeypatch, tmp_path):
    fake_dot(tmp_path, "sys.stderr.write('Error: syntax error in line 1')\nsys.exit(1)")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="syntax error in line 1"):
        render_svg(neuron(), tmp_path / "graph.svg")
    assert not (tmp_path / "graph.svg").exists()
