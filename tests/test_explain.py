"""explain: one gradient as the sum over paths of products of local derivatives, its text
matching the seed lesson's hand derivation, its total matching grad()."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings

from autograd import Value, explain, grad
from nn.seed_example import START, build_seed_network, forward, hand_gradients
from tests.helpers import all_grads, build_program, graph_programs


def brute_force_paths(output, wrt) -> int:
    """Paths from wrt to output by plain recursion (small graphs only): an independent count."""
    if output is wrt:
        return 1
    return sum(brute_force_paths(parent, wrt) for parent in output.parents)


def test_explain_seed_w11_is_the_lessons_formula_with_numbers():
    params, loss = build_seed_network()
    h1, _, y, _ = forward(START)
    dL_dy = y - 0.01  # the lesson: dL/dy = y - t, dy/dh1 = w31, dh1/dw11 = x1
    expected = (
        f"dL/dw11 = dL/dy * dy/dh1 * dh1/dw11 = {dL_dy:.4g} * {START['w31']:.4g} * "
        f"{0.05:.4g} = {dL_dy * START['w31'] * 0.05:.4g}"
    )
    assert str(explain(loss, params["w11"])) == expected
    assert expected == "dL/dw11 = dL/dy * dy/dh1 * dh1/dw11 = 0.7509 * 0.4 * 0.05 = 0.01502"


def test_explain_seed_every_parameter_total_matches_hand_gradients():
    params, loss = build_seed_network()
    hand = hand_gradients(START)
    for name, parameter in params.items():
        explanation = explain(loss, parameter)
        assert len(explanation.paths) == 1
        assert explanation.paths[0][0] is parameter and explanation.paths[0][-1] is loss
        assert math.isclose(explanation.total, hand[name], rel_tol=1e-12)


def test_explain_terms_keep_the_factors_of_one_the_text_merges():
    params, loss = build_seed_network()
    explanation = explain(loss, params["w11"])
    # w11 -> w11*x1 -> +w12*x2 -> h1 -> w31*h1 -> +w32*h2 -> y -> y-t -> **2 -> L: 10 nodes
    assert len(explanation.paths[0]) == 10
    assert explanation.terms == [explanation.total]


def test_explain_value_used_twice_gives_two_alike_paths():
    a = Value(3.0, label="a")
    b = a * a
    b.label = "b"
    explanation = explain(b, a)
    assert explanation.paths == [(a, b), (a, b)]
    assert explanation.terms == [3.0, 3.0] and explanation.total == 6.0
    text = str(explanation)
    assert text.count("db/da = 3") == 2 and text.endswith("= 6"), text


def test_explain_no_path_total_zero_and_says_so():
    x, z = Value(1.0, label="x"), Value(2.0, label="z")
    y = x * 3
    explanation = explain(y, z)
    assert explanation.paths == [] and explanation.terms == [] and explanation.total == 0.0
    assert "does not depend on z" in str(explanation)


def test_explain_too_many_paths_counts_them_without_enumerating():
    x = Value(1.0, label="x")
    node = x
    for _ in range(200):  # each doubling adds a fork: 2**200 paths, far too many to list
        node = node + node
    with pytest.raises(ValueError, match=rf"{2**200} paths.*backward_steps"):
        explain(node, x)


def test_explain_max_paths_is_checked():
    x = Value(1.0)
    with pytest.raises(ValueError, match="max_paths"):
        explain(x * x, x, max_paths=0)
    with pytest.raises(TypeError, match="wrt"):
        explain(x, 1.0)


def test_explain_renders_as_math_in_jupyter():
    params, loss = build_seed_network()
    latex = explain(loss, params["w11"])._repr_latex_()
    assert latex.startswith("$$") and latex.endswith("$$")
    assert r"\frac{\partial \mathrm{L}}{\partial \mathrm{w11}}" in latex
    assert "0.7509 \\cdot 0.4 \\cdot 0.05 = 0.01502" in latex
    assert explain(loss, params["w11"])._repr_markdown_() == latex


def test_explain_changes_no_grad():
    params, loss = build_seed_network()
    loss.backward()
    before = all_grads(loss)
    explain(loss, params["w12"])
    assert all_grads(loss) == before


@settings(max_examples=150, deadline=None)
@given(graph_programs())
def test_explain_random_graphs_sum_over_paths_is_grad(program):
    leaves, output = build_program(program)
    for leaf, expected in zip(leaves, grad(output, leaves), strict=True):
        count = brute_force_paths(output, leaf)
        if count > 100:
            with pytest.raises(ValueError, match=f"{count} paths"):
                explain(output, leaf)
            continue
        explanation = explain(output, leaf)
        assert len(explanation.paths) == len(explanation.terms) == count
        for path in explanation.paths:
            assert path[0] is leaf and path[-1] is output
            assert all(
                lower in upper.parents for lower, upper in zip(path[:-1], path[1:], strict=True)
            )
        if math.isnan(expected):
            assert math.isnan(explanation.total)
            continue
        # Summing path by path rounds differently from backward's running sums.
        scale = math.fsum(abs(term) for term in explanation.terms)
        assert abs(explanation.total - expected) <= 1e-12 * scale + 1e-300
        assert ("does not depend on" in str(explanation)) == (count == 0)


def test_explain_long_chain_needs_no_recursion():
    x = Value(0.5, label="x")
    node = x
    for _ in range(100_000):  # d/dx of x + 100000 (each step adds 1 and passes a 1 down)
        node = node + 1.0
    explanation = explain(node, x)
    assert len(explanation.paths[0]) == 100_001 and explanation.total == 1.0


@pytest.mark.parametrize("scales", [(1e308, 1e308), (math.inf, -math.inf)])
def test_explain_total_past_float_range_is_grads_inf_or_nan_not_an_error(scales):
    # math.fsum raises OverflowError / ValueError on these sums; grad() gives inf / nan.
    x = Value(1.0, label="x")
    y = x * scales[0] + x * scales[1]
    explanation = explain(y, x)
    (expected,) = grad(y, [x])
    assert explanation.terms == list(scales)
    assert explanation.total == expected or math.isnan(explanation.total) and math.isnan(expected)
    assert str(explanation)
