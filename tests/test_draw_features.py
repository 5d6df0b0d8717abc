"""What pictures show: names, scopes, collapse, highlight, edge labels, colour, responsive SVG,
no system Graphviz, and layouts that Ctrl-C and SIGTERM stop leaving no file behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

from autograd import Value, draw_dot, render_svg, to_dot
from autograd.draw import GraphTooLarge, drawing_order
from nn import MLP, mse_loss
from nn.seed_example import build_seed_network
from tests.helpers import PNG_MAGIC, REPOSITORY, require, run_cli, svg_texts

SVG = "{http://www.w3.org/2000/svg}"


def agraph(source: str):
    return require("pygraphviz").AGraph(string=source)


def network(hidden, seed=0):
    model = MLP(2, [*hidden, 1], seed=seed)
    loss = mse_loss([model([Value(0.5, label="x1"), Value(-1.0, label="x2")])], [1.0])
    loss.backward()
    return model, loss


def seed_loss():
    params, loss = build_seed_network()
    loss.backward()
    return params, loss


def test_unlabelled_values_get_names_from_how_they_were_made(tmp_path):
    _, loss = seed_loss()
    texts = svg_texts(render_svg(loss, tmp_path / "seed.svg", rankdir="TB"))
    assert {"w11*x1", "w12*x2", "w11*x1 + w12*x2", "h1", "y - t", "(y - t)**2", "L"} <= texts
    h1, b1 = Value(0.3, label="h1"), Value(0.1, label="b1")
    assert "<b>h1 + b1</b>" in to_dot(h1 + b1)
    assert "<b>-(h1 + b1)</b>" in to_dot(-(h1 + b1))


def test_long_derived_names_elide_computed_operands():
    x = Value(1.0, label="a_rather_long_name")
    y = (x * x + x * x).tanh()
    assert "<b>tanh(… + …)</b>" in to_dot(y)  # each product alone is over NAME_LIMIT


def test_node_ids_follow_drawing_order_with_leaves_before_first_use():
    _, loss = seed_loss()
    order = drawing_order(loss)
    labels = [node.label for node in order if node.label]
    assert labels.index("x1") == labels.index("w11") + 1  # x1 right next to the weight it meets
    assert order[-1] is loss
    graph = agraph(to_dot(loss))
    for index in range(len(order)):
        assert graph.get_node(f"v{index}").attr["id"] == f"v{index}"


def test_group_draws_scopes_as_nested_clusters_with_their_weights():
    _, loss = network([2])
    graph = agraph(to_dot(loss))
    layers = {sub.graph_attr["label"]: sub for sub in graph.subgraphs()}
    assert set(layers) == {"layer0", "layer1"}
    neurons = {sub.graph_attr["label"] for sub in layers["layer0"].subgraphs()}
    assert neurons == {"neuron0", "neuron1"}
    neuron0 = next(s for s in layers["layer0"].subgraphs() if s.graph_attr["label"] == "neuron0")
    names = " ".join(neuron0.get_node(n).attr["label"] for n in neuron0.nodes())
    assert "0.weight[0][0]" in names and "0.bias[0]" in names  # made outside, used only inside
    assert "0.weight[1][0]" not in names


def test_collapse_draws_each_neuron_as_one_node_and_counts_drawn_values():
    _, loss = network([16, 16])
    graph = agraph(to_dot(loss, collapse=2))
    groups = [n for n in graph.nodes() if n.startswith("s")]
    assert len(groups) == 33
    assert len(graph.nodes()) <= 60
    assert len(to_dot(loss, collapse=2, group=False)) > 0
    with pytest.raises(GraphTooLarge):
        to_dot(loss)  # 979 Values, over the default
    to_dot(loss, collapse=2, max_nodes=len([n for n in graph.nodes() if not n.endswith("_op")]))


def test_highlight_marks_the_path_to_the_root_and_nothing_else(tmp_path):
    x, w = Value(2.0, label="x"), Value(-3.0, label="w")
    b = Value(1.0, label="b")
    out = (x * w + b).tanh()
    graph = agraph(to_dot(out, highlight=x))
    marked = {n for n in graph.nodes() if n.attr.get("class") == "highlight"}
    ids = {node: f"v{i}" for i, node in enumerate(drawing_order(out))}
    xw = out.parents[0].parents[0]
    expected = {ids[x], ids[xw], f"{ids[xw]}_op", ids[out.parents[0]], f"{ids[out.parents[0]]}_op"}
    expected |= {ids[out], f"{ids[out]}_op"}
    assert marked == expected
    edges = {e.attr["id"] for e in graph.edges() if e.attr.get("class") == "highlight"}
    assert f"{ids[xw]}_in0" in edges and f"{ids[xw]}_in1" not in edges  # from x, not from w
    svg = ET.parse(render_svg(out, tmp_path / "h.svg", highlight=x)).getroot()
    classes = [g.get("class") for g in svg.iter(f"{SVG}g")]
    assert classes.count("node highlight") == len(expected)


def test_edge_labels_are_the_local_derivatives():
    x, w = Value(2.0, label="x"), Value(-3.0, label="w")
    out = x * w
    graph = agraph(to_dot(out, edge_labels=True))
    labels = {e.attr["id"]: e.attr.get("label") for e in graph.edges()}
    assert labels["v2_in0"] == "-3"  # d(xw)/dx = w
    assert labels["v2_in1"] == "2"


def fill_of(source: str, node_id: str) -> str:
    return re.search(rf'\t{node_id} \[.*?bgcolor="(#\w+|white)"', source).group(1)


def test_color_follows_the_sign_and_size_of_grad_and_zero_grads_say_so():
    x, w = Value(2.0, label="x"), Value(-3.0, label="w")
    out = x * w
    before = to_dot(out)
    assert "grads are 0: call backward() first" in before
    out.backward()
    after = to_dot(out)
    assert "grads are 0" not in after
    assert drawing_order(out)[:2] == [x, w]
    red, _, blue = (int(fill_of(after, "v0")[i : i + 2], 16) for i in (1, 3, 5))
    assert blue > red  # x.grad = -3 < 0: blue
    red, _, blue = (int(fill_of(after, "v1")[i : i + 2], 16) for i in (1, 3, 5))
    assert red > blue  # w.grad = 2 > 0: red
    zero = Value(1.0) * 2.0
    zero.backward()
    zero.parents[0].grad = 0.0
    assert fill_of(to_dot(zero), "v0") == "#ffffff"  # grad 0 is white


def test_show_grad_false_does_not_depend_on_grads():
    x, w = Value(2.0, label="x"), Value(-3.0, label="w")
    out = x * w
    before = to_dot(out, show_grad=False)
    out.backward()
    assert to_dot(out, show_grad=False) == before
    assert "grad" not in before.replace("grads", "")


def assert_responsive(svg: bytes | str):
    root = ET.fromstring(svg.encode() if isinstance(svg, str) else svg)
    assert root.get("width") == "100%"
    assert root.get("height") is None
    assert len(root.get("viewBox").split()) == 4
    natural = float(root.get("viewBox").split()[2])
    assert re.search(rf"max-width: {natural:g}(\.0+)?pt", root.get("style"))


def test_svg_is_responsive_in_files_pipe_and_inline(tmp_path):
    _, loss = seed_loss()
    with open(render_svg(loss, tmp_path / "g.svg"), "rb") as file:
        assert_responsive(file.read())
    graph = draw_dot(loss)
    assert_responsive(graph.pipe())
    assert_responsive(graph._repr_image_svg_xml())


def test_pipe_render_and_png_work_without_a_dot_program(monkeypatch, tmp_path):
    require("pygraphviz")
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` anywhere
    _, loss = seed_loss()
    graph = draw_dot(loss)
    assert graph.pipe(format="png").startswith(PNG_MAGIC)
    rendered = graph.render(tmp_path / "seed", format="png")
    with open(rendered, "rb") as file:
        assert file.read().startswith(PNG_MAGIC)
    assert sorted(os.listdir(tmp_path)) == ["seed", "seed.png"]


@pytest.mark.parametrize("label", ["&amp; <b>", "lone \udc80 surrogate", "tab\there"])
def test_labels_are_drawn_literally(tmp_path, label):
    x = Value(1.0, label=label)
    texts = svg_texts(render_svg(x * 2, tmp_path / "l.svg"))
    expected = label.replace("\udc80", "\\udc80").replace("\t", " ")
    assert expected in texts


def test_max_nodes_error_names_the_option_and_suggests_collapse():
    _, loss = network([4, 4])
    with pytest.raises(ValueError, match=r"max_nodes=50\b.*collapse=K to draw each scope"):
        to_dot(loss, max_nodes=50)


SLOW = "+".join(["x"] * 2500)  # a layout of minutes: one leaf feeding 2499 ops


def wait_for_layout(process: subprocess.Popen) -> None:
    """Until the layout child of `process` runs (it is the only child that imports pygraphviz)."""
    for _ in range(600):
        children = subprocess.run(
            ["pgrep", "-P", str(process.pid)], capture_output=True, text=True
        ).stdout.split()
        if children:
            time.sleep(0.5)
            return
        time.sleep(0.1)
    pytest.fail("the layout never started")


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_cli_layout_stops_on_signal_and_leaves_no_file(tmp_path, signum):
    require("pygraphviz")
    env = dict(os.environ, PYTHONPATH=str(REPOSITORY))
    process = subprocess.Popen(
        [sys.executable, "-m", "nn.cli", "graph", SLOW, "--set", "x=1", "--max-nodes", "9999"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for_layout(process)
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert err == "scalargrad: interrupted\n"
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_render_svg_keyboard_interrupt_kills_the_layout(tmp_path):
    require("pygraphviz")
    code = (
        "from autograd.expression import build_graph\n"
        "from autograd import render_svg\n"
        f"root = build_graph({SLOW!r}, {{'x': 1.0}})\n"
        "try:\n"
        "    render_svg(root, 'g.svg', max_nodes=9999)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted')\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPOSITORY))
    process = subprocess.Popen(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True
    )
    wait_for_layout(process)
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=60)
    assert out == "interrupted\n"
    assert os.listdir(tmp_path) == []


def test_cli_png_is_a_real_png_and_collapse_highlight_edge_labels_pass_on(tmp_path):
    finished = run_cli(
        "graph", "tanh(x*w + b)", "--set", "x=2", "w=-3", "b=1", "-o", "g.png",
        "--highlight", "w", "--edge-labels", cwd=tmp_path,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    assert (tmp_path / "g.png").read_bytes().startswith(PNG_MAGIC)
    finished = run_cli(
        "graph", "tanh(x*w + b)", "--set", "x=2", "w=-3", "b=1", "-o", "g.svg",
        "--highlight", "w", "--edge-labels", cwd=tmp_path,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    root = ET.parse(tmp_path / "g.svg").getroot()
    assert any(g.get("class") == "edge highlight" for g in root.iter(f"{SVG}g"))
    assert "-3" in svg_texts(tmp_path / "g.svg")  # d(x*w)/dx = w on its edge


def test_cli_300_term_sum_is_a_clear_error(tmp_path):
    finished = run_cli("graph", "+".join(["x"] * 300), "--set", "x=1", cwd=tmp_path)
    assert finished.returncode == 2
    assert "larger --max-nodes" in finished.stderr and "--collapse K" in finished.stderr
    assert os.listdir(tmp_path) == []


def test_edges_from_one_layer_into_the_next_skip_a_rank_so_layers_do_not_share_one():
    """An edge from a computed Value into another top-level scope has minlen=2 (so the next
    layer's weights rank after the last rank of the layer feeding it); no other edge has."""
    model, loss = network([2])
    order = drawing_order(loss)
    ids = {node: f"v{index}" for index, node in enumerate(order)}
    source = to_dot(loss)
    crossing = inside = 0
    for node in order:
        for index, parent in enumerate(node.parents):
            line = next(
                line for line in source.splitlines() if f'id="{ids[node]}_in{index}"' in line
            )
            between_layers = (
                parent.op != "" and node.scope.split(".")[0] != parent.scope.split(".")[0]
            )
            between_layers = between_layers and node.scope != ""
            assert ("minlen=2" in line) == between_layers, line
            crossing += between_layers
            inside += not between_layers
    assert crossing == 2 and inside > crossing  # relu of neuron0 and neuron1 into layer1's muls
