"""backward_steps: every chain-rule step of backward(), checked against the seed's hand formulas
and grad(), and leaving every .grad alone."""

from __future__ import annotations

import math

from hypothesis import given, settings

from autograd import Value, backward_steps, grad, topological_order
from nn.seed_example import START, build_seed_network, hand_gradients
from tests.helpers import all_grads, build_program, graph_programs


def last_accumulated(steps) -> dict:
    accumulated = {}
    for step in steps:
        accumulated[step.parent] = step.accumulated
    return accumulated


def test_backward_steps_seed_network_matches_hand_gradients():
    params, loss = build_seed_network()
    final = last_accumulated(backward_steps(loss))
    hand = hand_gradients(START)
    for name, parameter in params.items():
        assert math.isclose(final[parameter], hand[name], rel_tol=1e-12)


def test_backward_steps_one_step_per_edge_with_upstream_times_local():
    a = Value(3.0, label="a")
    b = a * a  # a listed twice: two edges, two steps
    c = b + a
    steps = backward_steps(c)
    assert [(s.node, s.parent) for s in steps] == [(c, b), (c, a), (b, a), (b, a)]
    assert [s.upstream for s in steps] == [1.0, 1.0, 1.0, 1.0]
    assert [s.local for s in steps] == [1.0, 1.0, 3.0, 3.0]
    assert [s.contribution for s in steps] == [1.0, 1.0, 3.0, 3.0]
    # a's gradient adds up over its three edges: 1 + 3 + 3 = d(a*a + a)/da = 2a + 1
    assert [s.accumulated for s in steps] == [1.0, 1.0, 4.0, 7.0]


def test_backward_steps_node_steps_come_after_every_step_into_it():
    x = Value(0.5, label="x")
    h = (x * 2).tanh()
    out = h * h + h.relu() + x
    steps = backward_steps(out)
    for index, step in enumerate(steps):
        later_into = [s for s in steps[index:] if s.parent is step.node]
        assert not later_into, f"a step into {step.node!r} comes after it passes its gradient on"


def test_backward_steps_relu_passes_zero_where_it_selects_even_for_inf():
    x = Value(-1.0, label="x")
    out = x.relu() * math.inf  # upstream of relu is inf, its local 0
    relu_step = [s for s in backward_steps(out) if s.node.op == "relu"][0]
    assert relu_step.upstream == math.inf and relu_step.local == 0.0
    assert relu_step.contribution == 0.0


def test_backward_steps_leaf_output_has_no_steps():
    assert backward_steps(Value(2.0)) == []


def test_backward_steps_changes_no_grad_interior_included():
    params, loss = build_seed_network()
    loss.backward()  # interior and leaf grads now set: none may move
    before = all_grads(loss)
    backward_steps(loss)
    assert all_grads(loss) == before


@settings(max_examples=150, deadline=None)
@given(graph_programs())
def test_backward_steps_random_graphs_end_at_grad(program):
    leaves, output = build_program(program)
    before = all_grads(output)
    final = last_accumulated(backward_steps(output))
    expected = grad(output, leaves)
    for leaf, value in zip(leaves, expected, strict=True):
        got = final.get(leaf, 0.0)
        assert got == value or (math.isnan(got) and math.isnan(value)), (leaf, got, value)
    assert all_grads(output) == before
    steps = backward_steps(output)
    interior = [n for n in topological_order(output) if n.parents]
    assert len(steps) == sum(len(n.parents) for n in interior)
