"""The engine's semantics: Value, backward accumulation, grad(), no_grad, order, gradcheck."""

from __future__ import annotations

import math
import sys

import pytest

from autograd import Value, grad, gradcheck, is_grad_enabled, no_grad, topological_order
from tests.helpers import require

# --- Value --------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [3, -2.5, 0, float("inf"), float("nan"), 10**20])
def test_value_stores_real_numbers_as_float(data):
    v = Value(data)
    assert type(v.data) is float
    assert v.data == float(data) or (math.isnan(v.data) and math.isnan(data))
    assert v.grad == 0.0 and v.label == "" and v.op == ""
    assert v.parents == () and v.local_grads == ()


@pytest.mark.parametrize(
    "bad, type_name",
    [("2", "str"), (None, "NoneType"), (1j, "complex"), ([1.0], "list"), (True, "bool")],
)
def test_value_rejects_non_real_data_naming_the_type(bad, type_name):
    with pytest.raises(TypeError, match=type_name):
        Value(bad)


def test_value_rejects_a_value_and_says_to_read_data():
    with pytest.raises(TypeError, match=r"Value.*\.data"):
        Value(Value(1.0))


def test_value_accepts_numpy_scalars_and_size_one_arrays_only():
    np = require("numpy")
    assert Value(np.float64(1.5)).data == 1.5
    assert Value(np.array([2.5])).data == 2.5
    with pytest.raises(TypeError, match="ndarray"):
        Value(np.array([1.0, 2.0]))


def test_value_attributes_are_writable_but_op_is_not():
    v = Value(1.0, label="w")
    v.data, v.grad, v.label = 2.0, 3.0, "w2"
    assert (v.data, v.grad, v.label) == (2.0, 3.0, "w2")
    with pytest.raises(AttributeError):
        v.op = "mul"
    with pytest.raises(AttributeError):  # __slots__: no stray attributes
        v.gradient = 1.0


def test_value_label_must_be_a_str():
    with pytest.raises(TypeError, match="label must be a str, got int"):
        Value(1.0, label=3)
    with pytest.raises(TypeError, match="label must be a str, got list"):
        Value(1.0, label=[])
    v = Value(1.0)
    with pytest.raises(TypeError, match="label must be a str, got NoneType"):
        v.label = None
    assert v.label == ""


def test_a_leaf_holds_only_its_data_and_grad():
    """What the garbage collector has to read in each leaf: its type, data, grad and op (None),
    nothing else (see engine.Node's slots); a result under no_grad is a leaf too, holding the
    thread's shared Tag (one object for every Value made there). Labels count once set."""
    import gc

    from autograd.mode import NO_TAG

    leaf = Value(1.5)
    leaf.grad = 2.5
    with no_grad():
        detached_result = leaf * 2.0
    for v, tag in ((leaf, []), (detached_result, [NO_TAG])):
        assert sorted(map(repr, gc.get_referents(v))) == sorted(
            map(repr, [Value, v.data, v.grad, None, *tag])
        )
    leaf.label = "w"
    tags = [r for r in gc.get_referents(leaf) if type(r).__name__ == "Tag"]
    assert [(t.label, t.scope) for t in tags] == [("w", "")]


def test_value_equality_is_identity_and_hashable():
    a, b = Value(1.0), Value(1.0)
    assert a != b and a == a
    assert len({a, b, a}) == 2
    assert {a: 1}[a] == 1


def test_value_comparisons_use_data_and_return_bool():
    a, b = Value(1.0), Value(2.0)
    assert (a < b, a <= 1, a > 0.5, b >= 2) == (True, True, True, True)
    assert type(a < b) is bool


def test_value_has_no_float_conversion_so_math_fails_loudly():
    with pytest.raises(TypeError):
        math.exp(Value(1.0))
    with pytest.raises(TypeError):
        float(Value(1.0))


def test_value_repr_shows_data_grad_and_op_or_label():
    assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"
    assert repr(Value(2.0, label="x")) == "Value(data=2.0, grad=0.0, label='x')"
    assert repr(Value(2.0) * 3) == "Value(data=6.0, grad=0.0, op='mul')"


def test_value_records_parents_in_order_with_repeats():
    a, b = Value(2.0), Value(5.0)
    assert (a * a).parents == (a, a)
    assert (a * a).local_grads == (2.0, 2.0)
    assert (b - a).parents == (b, a)
    assert (b - a).local_grads == (1.0, -1.0)


def test_constants_are_op_arguments_not_nodes():
    a = Value(2.0)
    for out in (a * 3, 3 * a, a**3, 3**a, a - 1, 1 - a, a / 4, 4 / a):
        assert out.parents == (a,)
    assert (a**3).local_grads == (12.0,)
    assert (2**a).local_grads == (4.0 * math.log(2.0),)


def test_unary_plus_is_identity():
    a = Value(1.0)
    assert +a is a


@pytest.mark.parametrize("operand", ["1", None, [1.0], 1j])
def test_arithmetic_with_non_numbers_raises_type_error_naming_the_type(operand):
    with pytest.raises(TypeError, match=type(operand).__name__):
        Value(1.0) + operand
    with pytest.raises(TypeError, match=type(operand).__name__):
        operand * Value(1.0)


# --- domain errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build, error, words",
    [
        (lambda: Value(0).log(), ValueError, ["log", "0.0"]),
        (lambda: Value(-1).log(), ValueError, ["log", "-1.0"]),
        (lambda: Value(-1).sqrt(), ValueError, ["sqrt", "-1.0"]),
        (lambda: Value(1) / 0, ZeroDivisionError, ["div", "0.0"]),
        (lambda: 1 / Value(0), ZeroDivisionError, ["div", "0.0"]),
        (lambda: Value(0) ** -1, ZeroDivisionError, ["pow", "0.0", "-1.0"]),
        (lambda: Value(1000).exp(), OverflowError, ["exp", "1000.0"]),
        (lambda: Value(10.0) ** 400, OverflowError, ["pow", "400.0"]),
        (lambda: Value(-8.0) ** (1 / 3), ValueError, ["pow", "-8.0"]),
        (lambda: Value(math.inf).sin(), ValueError, ["sin", "inf"]),
    ],
)
def test_domain_errors_name_the_op_and_value(build, error, words):
    with pytest.raises(error) as caught:
        build()
    for word in words:
        assert word in str(caught.value)


def test_huge_ints_raise_overflow_error_naming_the_operand():
    with pytest.raises(OverflowError, match=r"Value\(data\)"):
        Value(10**400)
    with pytest.raises(OverflowError, match="pow operand"):
        Value(2.0) ** (10**400)


def test_negative_base_with_nan_or_inf_exponent_follows_python():
    assert math.isnan((Value(-2.0) ** math.nan).data)
    assert (Value(-2.0) ** math.inf).data == math.inf


def test_failed_op_changes_no_existing_value():
    a = Value(-1.0, label="a")
    b = a * 2
    b.backward()
    before = [(v.data, v.grad, v.label, v.op, v.parents) for v in (a, b)]
    failing = [
        (lambda: b.log(), ValueError),
        (lambda: b.sqrt(), ValueError),
        (lambda: b / 0, ZeroDivisionError),
        (lambda: (b * -1000).exp(), OverflowError),
    ]
    for build, error in failing:
        with pytest.raises(error):
            build()
    assert [(v.data, v.grad, v.label, v.op, v.parents) for v in (a, b)] == before


@pytest.mark.parametrize("x", [-1000.0, 1000.0])
def test_saturating_functions_stay_finite_with_right_gradients(x):
    for method, slope in (
        ("tanh", 0.0),
        ("sigmoid", 0.0),
        ("softplus", 0.0 if x < 0 else 1.0),
    ):
        v = Value(x)
        out = getattr(v, method)()
        out.backward()
        assert math.isfinite(out.data), method
        assert v.grad == pytest.approx(slope, abs=1e-300), method


# --- backward -----------------------------------------------------------------------------


def test_backward_reused_node_accumulates():
    a = Value(3.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0 and b.grad == 2.0 and c.grad == 1.0


def test_backward_twice_doubles_leaves_and_keeps_interior():
    """Leaves accumulate across calls like PyTorch; interior nodes hold this pass only."""
    x, w = Value(2.0), Value(-3.0)
    h = x * w
    out = h.tanh() + h
    out.backward()
    first = (x.grad, w.grad, h.grad, out.grad)
    out.backward()
    assert (x.grad, w.grad) == (2 * first[0], 2 * first[1])
    assert (h.grad, out.grad) == first[2:]


def test_backward_with_gradient_scales_leaves():
    x = Value(2.0)
    (x * x).backward(gradient=0.5)
    assert x.grad == 2.0


def test_backward_on_a_leaf_adds_the_gradient():
    x = Value(2.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0


def test_backward_through_diamond_matches_hand_derivative():
    # f = (a*b) * (a+b) = a^2 b + a b^2; df/da = 2ab + b^2, df/db = a^2 + 2ab
    a, b = Value(1.5), Value(-2.0)
    f = (a * b) * (a + b)
    f.backward()
    assert a.grad == 2 * 1.5 * -2.0 + 4.0
    assert b.grad == 1.5**2 + 2 * 1.5 * -2.0


def test_million_node_chain_with_default_recursion_limit():
    limit = sys.getrecursionlimit()
    x = Value(0.5)
    y = x
    for _ in range(10**6):
        y = y + x
    y.backward()
    assert x.grad == 10**6 + 1
    order = topological_order(y)
    assert len(order) == 10**6 + 1 and order[0] is x and order[-1] is y
    assert grad(y, [x]) == [10**6 + 1.0]
    assert sys.getrecursionlimit() == limit


# --- grad ---------------------------------------------------------------------------------


def test_grad_leaves_dot_grad_untouched():
    x, y = Value(2.0), Value(3.0)
    z = x * y + x
    assert grad(z, [x, y]) == [4.0, 2.0]
    assert x.grad == y.grad == z.grad == 0.0


def test_grad_of_unrelated_input_is_zero():
    x, unused = Value(2.0), Value(3.0)
    assert grad(x * x, [unused]) == [0.0]
    (second,) = grad(x * x, [unused], create_graph=True)
    assert isinstance(second, Value) and second.data == 0.0


def test_grad_of_output_with_respect_to_itself_is_one():
    x = Value(2.0)
    y = x * 3
    assert grad(y, [y, x]) == [1.0, 3.0]


def test_grad_third_derivative_of_polynomial():
    # f = x^4 - 3x^2: f' = 4x^3 - 6x, f'' = 12x^2 - 6, f''' = 24x
    x = Value(1.5)
    f = x**4 - 3 * x**2
    (d1,) = grad(f, [x], create_graph=True)
    (d2,) = grad(d1, [x], create_graph=True)
    (d3,) = grad(d2, [x])
    assert d1.data == pytest.approx(4 * 1.5**3 - 9)
    assert d2.data == pytest.approx(12 * 1.5**2 - 6)
    assert d3 == pytest.approx(24 * 1.5)


def test_grad_create_graph_mixed_partials():
    # f = x^2 y^3: d2f/dxdy = 6 x y^2
    x, y = Value(2.0), Value(-1.0)
    (dfdx,) = grad(x**2 * y**3, [x], create_graph=True)
    assert grad(dfdx, [y]) == [pytest.approx(6 * 2.0 * 1.0)]


def test_grad_rejects_non_values():
    with pytest.raises(TypeError, match="float"):
        grad(Value(1.0), [1.0])
    with pytest.raises(TypeError, match="output"):
        grad(1.0, [Value(1.0)])


# --- no_grad, detach ----------------------------------------------------------------------


def test_no_grad_context_records_nothing_and_restores():
    x = Value(2.0)
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
        y = x * x
        with no_grad():
            pass
        assert not is_grad_enabled()
    assert is_grad_enabled()
    assert y.data == 4.0 and y.parents == () and y.op == ""


def test_no_grad_restores_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            Value(1.0) / 0
    assert is_grad_enabled()


def test_no_grad_as_decorator_with_and_without_parentheses():
    @no_grad()
    def square(v):
        assert not is_grad_enabled()
        return v * v

    @no_grad
    def cube(v):
        assert not is_grad_enabled()
        return v * v * v

    assert square(Value(3.0)).parents == () and cube(Value(2.0)).data == 8.0
    assert cube(Value(2.0)).parents == ()
    assert is_grad_enabled()


def test_detach_returns_a_new_leaf():
    x = Value(2.0)
    y = x * x
    d = y.detach()
    assert d is not y and d.data == 4.0 and d.parents == ()
    (d * x).backward()
    assert x.grad == 4.0


# --- topological_order --------------------------------------------------------------------


def test_topological_order_parents_first_each_node_once():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c
    order = topological_order(e)
    assert len(order) == len(set(order)) == 5
    assert order[-1] is e
    position = {node: i for i, node in enumerate(order)}
    for node in order:
        for parent in node.parents:
            assert position[parent] < position[node]


def test_topological_order_and_grad_leave_every_grad_as_it_was():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = (c + a).tanh() * c
    d.backward()
    before = [(v, v.grad) for v in (a, b, c, d)]
    topological_order(d)
    grad(d, [a, c], create_graph=True)
    assert [(v, v.grad) for v in (a, b, c, d)] == before


def test_topological_order_of_a_leaf_is_itself():
    a = Value(1.0)
    assert topological_order(a) == [a]


# --- gradcheck ----------------------------------------------------------------------------


def test_gradcheck_passes_for_correct_gradients():
    assert gradcheck(lambda x, y: (x * y).tanh() + x.sigmoid() * y**2, [0.3, -0.7])
    assert gradcheck(lambda x: x.softplus().log() + x.sin() * x.cos(), [0.4])


def test_gradcheck_lists_each_input_that_disagrees():
    # x * x.detach() has analytic gradient x but true derivative 2x; y is fine.
    with pytest.raises(AssertionError) as caught:
        gradcheck(lambda x, y: x * x.detach() + y * 2, [1.5, 0.5])
    message = str(caught.value)
    assert "input 0" in message and "input 1" not in message
