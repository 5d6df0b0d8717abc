"""The whitelisting expression parser: graphs, gradients, labels; refusing hostile input."""

import ast
import math
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, topological_order
from autograd.expression import (
    FUNCTIONS,
    LABEL_LENGTH,
    MAX_LENGTH,
    MAX_NESTING,
    build_graph,
    parse_assignments,
    parse_expression,
)


def leaves_of(root):
    return {node.label: node for node in topological_order(root) if not node.op}


def gradients(source, **variables):
    root = build_graph(source, variables)
    root.backward()
    return root, {name: leaf.grad for name, leaf in leaves_of(root).items()}


def test_build_graph_neuron_hand_derived_gradients():
    b = 6.881373587019543  # so that x*w + b = 0.8814 and tanh of it = 1/sqrt(2)
    root, grads = gradients("tanh(x*w + b)", x=2.0, w=-3.0, b=b)
    assert root.data == pytest.approx(1 / math.sqrt(2))
    # d tanh(n)/dn = 1 - tanh(n)**2 = 0.5
    assert grads == pytest.approx({"x": -3.0 * 0.5, "w": 2.0 * 0.5, "b": 0.5})


def test_build_graph_method_form_equals_function_form():
    _, by_function = gradients("sigmoid(x*w) + leaky_relu(x, 0.2)", x=-1.5, w=0.7)
    _, by_method = gradients("(x*w).sigmoid() + (x).leaky_relu(0.2)", x=-1.5, w=0.7)
    assert by_method == pytest.approx(by_function)


# (function, point, hand-derived derivative at that point)
DERIVATIVES = {
    "exp": (0.5, math.exp(0.5)),
    "log": (2.0, 0.5),
    "sqrt": (4.0, 0.25),
    "tanh": (0.5, 1 - math.tanh(0.5) ** 2),
    "sigmoid": (0.3, math.exp(-0.3) / (1 + math.exp(-0.3)) ** 2),
    "relu": (-2.0, 0.0),
    "leaky_relu": (-2.0, 0.01),
    "softplus": (0.3, 1 / (1 + math.exp(-0.3))),
    "sin": (0.4, math.cos(0.4)),
    "cos": (0.4, -math.sin(0.4)),
    "abs": (-2.0, -1.0),
}


def test_derivative_table_covers_every_function():
    assert set(DERIVATIVES) == set(FUNCTIONS)


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("form", ["{f}(x)", "(x).{f}()"])
def test_build_graph_each_function_in_both_forms(function, form):
    point, derivative = DERIVATIVES[function]
    root, grads = gradients(form.format(f=function), x=point)
    assert root.op == function
    assert grads["x"] == pytest.approx(derivative)


def test_build_graph_leaky_relu_slope_is_a_constant():
    root, grads = gradients("leaky_relu(x, 0.2)", x=-1.0)
    assert root.data == pytest.approx(-0.2)
    assert grads["x"] == pytest.approx(0.2)
    assert len(root.parents) == 1


def test_build_graph_repeated_name_is_one_leaf():
    root, grads = gradients("x*x + x - -x + +x", x=3.0)
    assert root.data == 9 + 3 + 3 + 3
    assert grads == {"x": 2 * 3.0 + 3}


def test_build_graph_a_function_name_can_also_be_a_variable():
    _, grads = gradients("exp(exp) * x", exp=0.0, x=2.0)
    assert grads == pytest.approx({"exp": 2.0, "x": 1.0})


def test_build_graph_numbers_are_op_constants_not_nodes():
    root = build_graph("x*3", {"x": 2.0})
    assert root.parents == (leaves_of(root)["x"],)
    folded = build_graph("2**3*x", {"x": 1.0})
    assert [node.op for node in topological_order(folded)] == ["", "mul"]
    assert folded.data == 8.0


def test_build_graph_power_with_a_variable_exponent():
    _, grads = gradients("x**y", x=2.0, y=3.0)
    assert grads == pytest.approx({"x": 3 * 2.0**2, "y": 2.0**3 * math.log(2.0)})


def test_build_graph_constant_expression_is_one_leaf():
    root = build_graph("2**10 - tanh(0)", {})
    assert (root.data, root.op, root.label) == (1024.0, "", "2**10 - tanh(0)")


def test_build_graph_labels_leaves_and_subexpressions():
    root = build_graph("tanh(x*w + b)", {"x": 1.0, "w": 1.0, "b": 1.0})
    labels = {node.label for node in topological_order(root)}
    assert labels == {"x", "w", "b", "x*w", "x*w + b", "tanh(x*w + b)"}


def test_build_graph_shortens_long_labels():
    source = " + ".join(f"x{i}" for i in range(20))
    root = build_graph(source, {f"x{i}": float(i) for i in range(20)})
    assert len(root.label) == LABEL_LENGTH - 1
    assert root.label.startswith("x0 + x1") and root.label.endswith("x18 + x19")
    assert "…" in root.label


def test_build_graph_whitespace_and_newlines_around_and_inside():
    root = build_graph("  (x *\n 2)\n", {"x": 1.5})
    assert (root.data, root.label) == (3.0, "x * 2")


HOSTILE = [
    ("__import__('os').system('echo pwned')", "unknown function 'system'"),
    ("__import__('os')", "unknown function '__import__'"),
    ("x.__class__", "attribute access not allowed"),
    ("x.data", "attribute access not allowed"),
    ("x.tanh", "attribute access not allowed"),
    ("x[0]", "subscripts not allowed"),
    ("(lambda: 1)()", "only named functions"),
    ("lambda: 1", "lambda not allowed"),
    ("[x for x in y]", "comprehensions not allowed"),
    ("sum(t for t in x)", "unknown function 'sum'"),
    ("tanh(x=1)", "keyword arguments not allowed"),
    ("tanh(*x)", "not allowed"),
    ("tanh(x, x)", "wrong number of arguments"),
    ("(x).tanh(1)", "wrong number of arguments"),
    ("leaky_relu(x, 0.1, 2)", "wrong number of arguments"),
    ("leaky_relu(x, x)", "slope of leaky_relu must be a number"),
    ("tanh(x)(x)", "only named functions"),
    ("eval('1')", "unknown function 'eval'"),
    ("'text'", "only int and float"),
    ("True + x", "only int and float"),
    ("1j * x", "only int and float"),
    ("x if x else x", "conditional expressions not allowed"),
    ("x < 1", "comparisons not allowed"),
    ("x and x", "and/or not allowed"),
    ("not x", "the not operator not allowed"),
    ("x // 2", "the // operator not allowed"),
    ("x % 2", "the % operator not allowed"),
    ("x << 2", "the << operator not allowed"),
    ("(y := 2)", "assignments not allowed"),
    ("f'{x}'", "f-strings not allowed"),
    ("x = 1", "invalid expression"),
    ("import os", "invalid expression"),
    ("x +", "invalid expression"),
    ("", "invalid expression"),
    ("x\x00", "invalid expression"),
    ("1" * 5000, "invalid expression"),
]


@pytest.mark.parametrize(("source", "message"), HOSTILE)
def test_build_graph_refuses_hostile_input(source, message):
    with pytest.raises(ValueError, match=message) as caught:
        build_graph(source, {"x": 1.0})
    assert "\n" not in str(caught.value)


def test_build_graph_never_runs_the_code_it_refuses(tmp_path):
    target = tmp_path / "pwned"
    with pytest.raises(ValueError):
        build_graph(f"__import__('os').system('touch {target}')", {})
    assert not target.exists()


def test_build_graph_refuses_long_input_before_parsing(monkeypatch):
    def parse(*args, **kwargs):
        raise AssertionError("ast.parse must not see over-long input")

    monkeypatch.setattr(ast, "parse", parse)
    with pytest.raises(ValueError, match="10,001 characters long; the limit is 10,000"):
        build_graph("x" * (MAX_LENGTH + 1), {})


@pytest.mark.parametrize(
    "source",
    [
        "(" * 4000 + "x" + ")" * 4000,
        "-" * 5000 + "x",
        "-" * (MAX_LENGTH - 1) + "x",
        "2**" * 3000 + "2",
        "tanh(" * 1500 + "x" + ")" * 1500,
    ],
)
def test_build_graph_refuses_deep_nesting_with_a_value_error(source):
    with pytest.raises(ValueError, match="nested|invalid expression"):
        build_graph(source, {"x": 1.0})


@pytest.mark.parametrize(
    "nest",
    [
        lambda depth: "(" * depth + "x" + ")" * depth,
        lambda depth: "-" * depth + "x",
        lambda depth: "tanh(" * depth + "x" + ")" * depth,
        lambda depth: "x**" * depth + "1",
        lambda depth: "(" * (depth - 1) + "-x" + ")" * (depth - 1),
    ],
)
def test_build_graph_nesting_limit_is_exact_and_clear(nest):
    assert isinstance(build_graph(nest(MAX_NESTING), {"x": 0.5}), Value)
    # Python 3.12+'s tokenizer counts parentheses itself, with its own words.
    refusal = f"nested too deeply \\(over {MAX_NESTING} levels|too many nested parentheses"
    with pytest.raises(ValueError, match=refusal):
        build_graph(nest(MAX_NESTING + 1), {"x": 0.5})


@pytest.mark.parametrize(
    ("source", "slope"),
    [
        ("x+" * 4999 + "x", 5000),  # 5,000 terms
        ("x - " * 2499 + "x", 1 - 2499),
        ("-x+" * 3332 + "x", -3332 + 1),
    ],
)
def test_build_graph_flat_sum_up_to_the_length_limit(source, slope):
    # One level deep however long: the parser builds chains in a loop, not by recursion.
    assert len(source) <= MAX_LENGTH
    root, grads = gradients(source, x=1.5)
    assert (root.data, grads["x"]) == (1.5 * slope, slope)


def test_build_graph_flat_product_up_to_the_length_limit():
    root, grads = gradients("x*" * 4999 + "x", x=1.0001)
    assert root.data == pytest.approx(1.0001**5000, rel=1e-9)
    assert grads["x"] == pytest.approx(5000 * 1.0001**4999, rel=1e-9)


def test_build_graph_called_deep_in_recursion_gives_a_value_error():
    def at_depth(frames):
        return at_depth(frames - 1) if frames else build_graph("(" * 150 + "x" + ")" * 150, {})

    with pytest.raises(ValueError, match="nested too deeply to parse here"):
        at_depth(sys.getrecursionlimit() - 100)


def test_build_graph_moderate_nesting_is_fine():
    root, grads = gradients("-" * 100 + "x", x=2.0)
    assert (root.data, grads["x"]) == (2.0, 1.0)
    root = build_graph("(" * 150 + "x" + ")" * 150, {"x": 2.0})
    assert root.data == 2.0


@pytest.mark.parametrize(
    "source", ["2**2**2**2**2", "9**9**9**9**9**9", "10**400", "x**2**2**2**2", "exp(exp(x))"]
)
def test_build_graph_reports_overflow_as_one_line_value_error(source):
    # Numbers are floats, so towers of constants overflow at once instead of growing big ints.
    with pytest.raises(ValueError, match="out of range|range error|overflow") as caught:
        build_graph(source, {"x": 10.0} if "x" in source else {})
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("source", "message"),
    [("log(x)", "log"), ("1/x", "div"), ("(-8)**0.5", "pow"), ("sqrt(x - 1)", "sqrt")],
)
def test_build_graph_reports_domain_errors_naming_the_op(source, message):
    with pytest.raises(ValueError, match=f"cannot evaluate .*{message}"):
        build_graph(source, {"x": 0.0} if "x" in source else {})


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("3x", "did you mean 3\\*x\\?"),
        ("x if 3y else 1", "did you mean 3\\*y\\?"),  # found by Python's parser
        ("tanh(3x + 1)", "did you mean 3\\*x\\?"),
        ("2.5e3y * x", "did you mean 2.5e3\\*y\\?"),
        ("x y", "missing operator between 'x' and 'y' at column 3; did you mean x\\*y\\?"),
        ("2(x + 1)", "a number cannot be called .*; did you mean 2\\*\\(x \\+ 1\\)\\?"),
        ("tanhh(x)", "unknown function 'tanhh' .*; did you mean tanh\\?$"),
        ("(x).sigmod()", "unknown function 'sigmod' .*; did you mean sigmoid\\?$"),
        ("frobnicate(x)", "unknown function 'frobnicate' .*; allowed: numbers"),
        ("math.exp(x)", "modules and attributes are not supported .*; write exp\\(x\\)$"),
        ("np.leaky_relu(x, 0.1)", "not supported .*; write leaky_relu\\(x, 0.1\\)$"),
        ("math.floor(x)", "modules and attributes are not supported .*; allowed: numbers"),
        ("math.pi * x", "attribute access not allowed .*; write the number 3.141592653589793$"),
        ("x^2", "the \\^ operator \\(a power is x\\*\\*2\\) not allowed"),
    ],
)
def test_build_graph_suggests_what_was_meant(source, message):
    with pytest.raises(ValueError, match=message) as caught:
        build_graph(source, {"x": 1.0, "y": 2.0})
    assert "\n" not in str(caught.value)


def test_build_graph_unset_names_are_named_with_a_set_hint():
    with pytest.raises(ValueError, match=r"names b, w not set; give values with --set b=\.\.\. w="):
        build_graph("tanh(x*w + b)", {"x": 1.0})


def test_build_graph_unused_variables_are_refused():
    with pytest.raises(ValueError, match="--set z: not used"):
        build_graph("x + 1", {"x": 1.0, "z": 2.0})


def test_build_graph_rejects_a_non_string():
    with pytest.raises(TypeError, match="str"):
        build_graph(b"x", {"x": 1.0})


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="xy0129.e+-*/()[]{}_,:'\"=<> lambdtnhsqrpo\n#", max_size=40))
def test_build_graph_any_text_gives_a_value_or_a_value_error(source):
    try:
        result = build_graph(source, {"x": 0.5, "y": 2.0})
    except ValueError as error:
        assert "\n" not in str(error)
    else:
        assert isinstance(result, Value)
        assert_same_tree_as_python(source)


def assert_same_tree_as_python(source):
    """Our parser's tree, positions included, equals Python's own parser's (the oracle)."""
    ours = ast.dump(parse_expression(source), include_attributes=True)
    assert ours == ast.dump(ast.parse(source.strip(), mode="eval"), include_attributes=True)


ATOMS = st.sampled_from(["x", "y", "w_1", "α", "ﬁ", "2", "0.5", "1e3", "1_000", "0x1f", "3.", ".5"])


def compose(inner):
    spaces = st.sampled_from(["", " ", "  "])
    binary = st.tuples(inner, spaces, st.sampled_from(["+", "-", "*", "/", "**"]), spaces, inner)
    return st.one_of(
        binary.map("".join),
        st.tuples(st.sampled_from(["-", "+", "- "]), inner).map("".join),
        inner.map(lambda text: f"({text})"),
        st.tuples(st.sampled_from(FUNCTIONS), inner).map(lambda call: f"{call[0]}({call[1]})"),
        st.tuples(inner, st.sampled_from(FUNCTIONS)).map(lambda call: f"({call[0]}).{call[1]}()"),
        st.tuples(inner, inner).map(lambda pair: f"leaky_relu({pair[0]}, {pair[1]},)"),
    )


@settings(max_examples=400, deadline=None)
@given(st.recursive(ATOMS, compose, max_leaves=12))
def test_parse_expression_builds_the_tree_python_builds(source):
    assert_same_tree_as_python(source)


@pytest.mark.parametrize(
    "source",
    [
        "  (x *\n 2)\n",
        "tanh(\n  x  # the input\n  * w\n)",
        "(é + 1) * 2.0.exp()",
        "x + \\\n y",
        "(x)**-(y)**2",
        "-x**2 - +y / x * 3",
        "x+" * 300 + "x",
    ],
)
def test_parse_expression_same_tree_as_python_on_layout_and_precedence(source):
    assert_same_tree_as_python(source)


def test_parse_assignments_reads_names_and_numbers():
    assert parse_assignments(["x=2", "w=-3", "b = 1e3", "big=inf"]) == {
        "x": 2.0,
        "w": -3.0,
        "b": 1000.0,
        "big": math.inf,
    }


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["x"], "expects NAME=NUMBER"),
        (["=2"], "expects NAME=NUMBER"),
        (["1x=2"], "expects NAME=NUMBER"),
        (["for=2"], "expects NAME=NUMBER"),
        (["x=two"], "'two' is not a number"),
        (["x=1", "x=2"], "x is given twice"),
    ],
)
def test_parse_assignments_refuses_malformed_items(items, message):
    with pytest.raises(ValueError, match=message):
        parse_assignments(items)
