"""step_through: frames in the engine's order, captions with the chain-rule arithmetic, the last
frame's grads equal to backward()'s, no .grad touched, and a self-contained, linear-size page."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings

from autograd import Value, explain, step_through, topological_order
from nn.seed_example import START, build_seed_network, forward, hand_gradients
from tests.helpers import all_grads, build_program, graph_programs

SVG = "{http://www.w3.org/2000/svg}"


class Elements(HTMLParser):
    """Every start tag of an HTML fragment as (tag, attributes), and the text of its scripts."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)

    def find(self, tag, **attributes):
        return [
            found
            for name, found in self.tags
            if name == tag
            and all(found.get(k.replace("_", "-")) == v for k, v in attributes.items())
        ]


def test_player_one_frame_per_interior_node_in_engine_order():
    _, loss = build_seed_network()
    player = step_through(loss)
    interior = [node for node in reversed(topological_order(loss)) if node.parents]
    assert len(player) == 1 + len(interior)
    assert player.frames[0].node is None and player.grads(0) == {}
    assert [frame.node for frame in player.frames[1:]] == interior


def test_player_last_frame_grads_equal_backward_and_no_grad_changes():
    _, loss = build_seed_network()
    before = all_grads(loss)
    player = step_through(loss)
    player._repr_html_()
    assert all_grads(loss) == before == {node: 0.0 for node in before}
    final = player.grads(len(player) - 1)
    loss.backward()
    assert final == {node: node.grad for node in topological_order(loss)}


def test_player_caption_shows_the_chain_rule_arithmetic_with_names():
    params, loss = build_seed_network()
    h1, _, y, _ = forward(START)
    upstream, w31_grad = y - 0.01, hand_gradients(START)["w31"]
    captions = "\n".join(frame.caption for frame in step_through(loss).frames)
    expected = f"w31.grad += (w31*h1).grad × h1 = {upstream:.4g} × {h1:.4g} = {w31_grad:.4g}"
    assert expected == "w31.grad += (w31*h1).grad × h1 = 0.7509 × 0.3375 = 0.2534"
    assert expected in captions


def test_player_reused_value_accumulates_in_two_steps():
    a = Value(2.0, label="a")
    b = a + a
    b.label = "b"
    c = b * 3
    c.label = "c"
    player = step_through(c)
    assert len(player) == 3
    lines = player.frames[2].caption.splitlines()
    assert lines[1] == "a.grad += b.grad × 1 = 3 × 1 = 3"
    assert lines[2] == "a.grad += b.grad × 1 = 3 × 1 = 3, so a.grad = 3 + 3 = 6"
    assert player.grads(1) == {c: 1.0, b: 3.0}
    assert player.grads(2) == {c: 1.0, b: 3.0, a: 6.0}


def _reused_through_a_zero():
    a, z = Value(2.0, label="a"), Value(0.0, label="z")
    return a * z + a * 5  # a first receives 0 (through a*z), then 5


def _reused_through_an_infinity():
    a, b = Value(2.0, label="a"), Value(math.inf, label="b")
    return a * b + a * b  # a receives inf twice


@pytest.mark.parametrize("make", [_reused_through_a_zero, _reused_through_an_infinity])
def test_player_caption_adds_up_every_reused_value_and_only_those(make):
    # A value's later steps add to what it holds, whatever the numbers: reuse was guessed from
    # accumulated != contribution, which missed 0 + 5 and inf + inf.
    player = step_through(make())
    received = set()
    for frame in player.frames[1:]:
        lines = [line for line in frame.caption.splitlines() if ".grad += " in line]
        for step, line in zip(frame.steps, lines, strict=True):
            parent = line.split(".grad += ")[0]
            assert (f", so {parent}.grad = " in line) == (step.parent in received), line
            received.add(step.parent)


def test_player_html_has_the_spec_controls_and_no_network():
    _, loss = build_seed_network()
    fragment = step_through(loss)._repr_html_()
    elements = Elements(fragment)
    (root,) = elements.find("div", data_role="player")
    assert root["tabindex"] == "0" and root["id"]
    steps = [
        attributes["data-step"]
        for attributes in elements.find("button")
        if "data-step" in attributes
    ]
    assert steps == ["first", "prev", "next", "last"]
    assert len(elements.find("input", type="range")) == 1
    assert len(elements.find("div", data_role="caption")) == 1
    assert not [a for _, a in elements.tags if "src" in a or "href" in a]
    assert not re.search(r"https?://(?!www\.w3\.org/)", fragment), "no network references"
    assert root["id"] in elements.scripts[-1]  # the script finds its own player


def test_player_picture_is_responsive_and_shows_the_last_frame_without_scripts():
    _, loss = build_seed_network()
    player = step_through(loss)
    fragment = player._repr_html_()
    svg = ET.fromstring(re.search(r"<svg.*</svg>", fragment, re.S).group(0))
    assert svg.get("viewBox") and svg.get("width") == "100%" and svg.get("height") is None
    shown = {
        int(text.get("data-grad")): text.text
        for text in svg.iter(f"{SVG}text")
        if text.get("data-grad") is not None
    }
    order = topological_order(loss)
    assert set(shown) == set(range(len(order)))
    loss.backward()
    for index, text in shown.items():
        assert math.isclose(float(text.removeprefix("grad ")), order[index].grad, rel_tol=1e-3)


def test_player_instances_have_their_own_ids():
    x = Value(1.0, label="x")
    player = step_through(x * x)
    ids = {re.search(r'id="([^"]+)"', player._repr_html_()).group(1) for _ in range(2)}
    assert len(ids) == 2


def mlp_like(width: int) -> Value:
    """A sum of tanh neurons over two inputs: 9 Values per neuron, a graph of any size."""
    x1, x2 = Value(0.5, label="x1"), Value(-1.0, label="x2")
    total = Value(0.0)
    for i in range(width):
        w1, w2, b = Value(0.1 * i), Value(-0.2), Value(0.05)
        total = total + (w1 * x1 + w2 * x2 + b).tanh()
    return total


def test_player_page_size_grows_linearly(tmp_path):
    sizes = {}
    for width in (11, 22):  # about 100 and 200 Values
        output = mlp_like(width)
        values = len(topological_order(output))
        path = step_through(output).save(tmp_path / f"{width}.html")
        sizes[values] = path.stat().st_size
    (small, small_size), (large, large_size) = sorted(sizes.items())
    assert large >= 200 and large_size < 2_000_000
    assert large_size / small_size < 1.2 * large / small


def test_player_save_writes_a_standalone_page(tmp_path):
    x = Value(1.0, label="x")
    path = tmp_path / "steps.html"
    path.write_text("old")
    returned = step_through((x * 2).tanh()).save(path)
    text = path.read_text(encoding="utf-8")
    assert returned == path
    assert text.startswith("<!DOCTYPE html>") and 'data-role="player"' in text
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left


@settings(max_examples=60, deadline=None)
@given(graph_programs())
def test_player_random_graphs_last_frame_is_backward(program):
    _, output = build_program(program)
    before = all_grads(output)
    player = step_through(output)
    assert all_grads(output) == before
    assert len(player) == 1 + sum(1 for node in topological_order(output) if node.parents)
    final = player.grads(len(player) - 1)
    output.backward()
    expected = {node: node.grad for node in topological_order(output)}
    assert final.keys() == expected.keys()
    for node, value in expected.items():
        assert final[node] == value or (math.isnan(final[node]) and math.isnan(value)), node


def test_player_picture_refuses_more_than_max_nodes_before_layout(tmp_path):
    x = Value(1.0, label="x")
    output = (x * 2 + 1).tanh()  # 4 Values: x, 2*x, 2*x + 1, its tanh (constants are no nodes)
    player = step_through(output, max_nodes=3)
    assert len(player) == 4  # the frames need no picture
    with pytest.raises(ValueError, match="max_nodes=3"):
        player.save(tmp_path / "p.html")
    assert list(tmp_path.iterdir()) == []


def test_player_and_explain_show_unprintable_label_characters_as_escape_codes():
    # a lone surrogate made save() (and printing explain) raise UnicodeEncodeError
    a = Value(2.0, label="a\ud800\x07")
    b = a * 3
    player, text = step_through(b), str(explain(b, a))
    for shown in (text, *(frame.caption for frame in player.frames)):
        shown.encode("utf-8")
    assert "(a\\ud800\\x07).grad += " in player.frames[-1].caption
    assert "/d(a\\ud800\\x07)" in text
