"""`compile`: the generated code against the eager engine, op by op and on random graphs."""

from __future__ import annotations

import builtins
import math
import random
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autograd import Value, compile, topological_order
from autograd import compiler as compile_module
from autograd.ops import OPS
from tests.helpers import require

# Per op: (function of the leaves, leaf values to run it at). The first values trace the graph;
# the others move data-dependent branches (relu, abs, the pow limits...) to the other side.
CASES = {
    "add": [
        (lambda a, b: a + b, [(1.0, 2.0), (-3.0, 0.5)]),
        (lambda a: a + 2.5, [(1.0,), (-4.0,)]),
        (lambda a: 2.5 + a, [(1.0,), (-4.0,)]),
    ],
    "sub": [
        (lambda a, b: a - b, [(1.0, 2.0), (-3.0, 0.5)]),
        (lambda a: a - 2.5, [(1.0,), (-4.0,)]),
        (lambda a: 2.5 - a, [(1.0,), (-4.0,)]),
    ],
    "mul": [
        (lambda a, b: a * b, [(1.5, -2.0), (-3.0, 0.25)]),
        (lambda a: a * a, [(1.5,), (-3.0,)]),
        (lambda a: a * -2.5, [(1.0,), (-4.0,)]),
        (lambda a: -2.5 * a, [(1.0,), (-4.0,)]),
    ],
    "div": [
        (lambda a, b: a / b, [(1.5, -2.0), (-3.0, 0.25)]),
        (lambda a: a / 4.0, [(1.0,), (-4.0,)]),
        (lambda a: 4.0 / a, [(1.0,), (-4.0,)]),
    ],
    "pow": [
        (lambda a, b: a**b, [(1.5, 2.5), (0.0, 2.0), (-1.5, 3.0), (2.0, -1.0), (0.5, 0.0)]),
        (lambda a: a**3, [(1.5,), (0.0,), (-2.0,)]),
        (lambda a: a**0.5, [(2.25,), (0.25,)]),
        (lambda a: a**0, [(1.5,), (0.0,)]),
        (lambda a: 2.0**a, [(1.5,), (-3.0,), (0.0,)]),
        (lambda a: 0.0**a, [(1.5,), (2.0,)]),
    ],
    "neg": [(lambda a: -a, [(1.5,), (-2.0,), (0.0,)])],
    "abs": [(abs, [(1.5,), (-2.0,), (0.0,)])],
    "exp": [(Value.exp, [(1.5,), (-2.0,), (700.0,)])],
    "log": [(Value.log, [(1.5,), (1e-300,), (1e300,)])],
    "sqrt": [(Value.sqrt, [(2.25,), (0.0,), (1e300,)])],
    "tanh": [(Value.tanh, [(0.5,), (-30.0,), (1000.0,)])],
    "sigmoid": [(Value.sigmoid, [(0.5,), (-1000.0,), (1000.0,)])],
    "relu": [(Value.relu, [(1.5,), (-2.0,), (0.0,)])],
    "leaky_relu": [
        (Value.leaky_relu, [(1.5,), (-2.0,), (0.0,)]),
        (lambda a: a.leaky_relu(0.2), [(-1.5,), (2.0,)]),
    ],
    "softplus": [(Value.softplus, [(0.5,), (-1000.0,), (1000.0,)])],
    "sin": [(Value.sin, [(0.5,), (-4.0,), (1e10,)])],
    "cos": [(Value.cos, [(0.5,), (-4.0,), (1e10,)])],
}


def same(ours: float, eager: float) -> bool:
    """Equal to 1e-12 relative; nan matches nan and infinities match themselves."""
    if math.isnan(eager) or math.isinf(eager):
        return ours == eager or (math.isnan(ours) and math.isnan(eager))
    return abs(ours - eager) <= 1e-12 * max(abs(ours), abs(eager), 1e-300)


def eager_result(function, values) -> tuple[float, list[float]]:
    """The output and leaf gradients of the eager engine, from a freshly built graph."""
    leaves = [Value(value) for value in values]
    output = function(*leaves)
    output.backward()
    return output.data, [leaf.grad for leaf in leaves]


def compiled_result(graph, leaves, values) -> tuple[float, list[float]]:
    """Set the leaves' data, zero their grads, run the compiled graph."""
    for leaf, value in zip(leaves, values, strict=True):
        leaf.data = value
        leaf.grad = 0.0
    output = graph()
    return output, [leaf.grad for leaf in leaves]


def assert_matches_eager(function, trace_values, run_values) -> None:
    leaves = [Value(value) for value in trace_values]
    graph = compile(function(*leaves))
    for values in run_values:
        output, grads = compiled_result(graph, leaves, values)
        eager_output, eager_grads = eager_result(function, values)
        assert same(output, eager_output), (values, output, eager_output)
        for ours, eager in zip(grads, eager_grads, strict=True):
            assert same(ours, eager), (values, grads, eager_grads)


def embedded(function):
    """`function` inside a larger graph: its inputs and its output are other ops."""
    return lambda *leaves: function(*(leaf * 1.0 for leaf in leaves)) * 2.0 - leaves[0]


def op_cases() -> list:
    return [
        pytest.param(name, function, values, id=f"{name}-{number}")
        for name, cases in CASES.items()
        for number, (function, values) in enumerate(cases)
    ]


def test_compile_has_a_test_for_every_op():
    assert set(CASES) == set(OPS)


@pytest.mark.parametrize(("name", "function", "values"), op_cases())
def test_compile_op_matches_eager(name, function, values):
    leaves = [Value(value) for value in values[0]]
    assert function(*leaves).op == name  # the case really exercises this op
    assert_matches_eager(function, values[0], values)
    assert_matches_eager(embedded(function), values[0], values)


@pytest.mark.parametrize(("name", "function", "values"), op_cases())
def test_compile_op_matches_eager_across_chunks(name, function, values, monkeypatch):
    monkeypatch.setattr(compile_module, "CHUNK_NODES", 1)
    assert_matches_eager(embedded(function), values[0], values)


# --- random graphs ---------------------------------------------------------------------------
# Each step combines earlier nodes with one op; the wrappers keep any input inside the op's
# domain, so a graph traced at some leaf values runs at any others.
STEPS = [
    (2, lambda a, b: a + b),
    (2, lambda a, b: a - b),
    (2, lambda a, b: a * b),
    (2, lambda a, b: a / (abs(b) + 0.5)),
    (2, lambda a, b: (a.sigmoid() + 0.5) ** b.tanh()),
    (1, lambda a: a**3),
    (1, lambda a: 1.5 ** a.tanh()),
    (1, lambda a: 2.0 - a),
    (1, lambda a: 1.0 / (a * a + 1.0)),
    (1, lambda a: -a),
    (1, abs),
    (1, lambda a: a.tanh().exp()),
    (1, lambda a: (a * a + 0.1).log()),
    (1, lambda a: (a * a).sqrt()),
    (1, Value.tanh),
    (1, Value.sigmoid),
    (1, Value.relu),
    (1, lambda a: a.leaky_relu(0.1)),
    (1, Value.softplus),
    (1, Value.sin),
    (1, Value.cos),
]

# Zeros and sign changes flip relu, abs and leaky_relu between tracing and running.
leaf_values = st.one_of(st.sampled_from([0.0, -1.0, 1.0]), st.floats(-3.0, 3.0))


@st.composite
def programs(draw):
    """Trace-time leaf values, run-time leaf values, and steps (op, operand node indices)."""
    count = draw(st.integers(1, 4))
    trace_values = draw(st.lists(leaf_values, min_size=count, max_size=count))
    run_values = draw(st.lists(leaf_values, min_size=count, max_size=count))
    steps = []
    for _ in range(draw(st.integers(1, 15))):
        available = count + len(steps)
        op = draw(st.integers(0, len(STEPS) - 1))
        operands = [draw(st.integers(0, available - 1)) for _ in range(STEPS[op][0])]
        steps.append((op, operands))
    return trace_values, run_values, steps


def run_program(steps, leaves):
    """The graph of `steps`; its root sums every node no other step used, so none is dead."""
    nodes = list(leaves)
    used = set()
    for op, operands in steps:
        used.update(operands)
        nodes.append(STEPS[op][1](*(nodes[index] for index in operands)))
    unused = [node for index, node in enumerate(nodes) if index not in used]
    return sum(unused[1:], unused[0] * 1.0)


@settings(derandomize=True, max_examples=150, deadline=None)
@given(programs(), st.sampled_from([compile_module.CHUNK_NODES, 1, 3]))
def test_compile_random_graph_matches_eager(program, chunk_nodes):
    trace_values, run_values, steps = program
    leaves = [Value(value) for value in trace_values]
    try:
        root = run_program(steps, leaves)
    except (ArithmeticError, ValueError):
        assume(False)  # overflow while tracing: there is nothing to compile
    default_chunk_nodes = compile_module.CHUNK_NODES
    compile_module.CHUNK_NODES = chunk_nodes
    try:
        graph = compile(root)
    finally:
        compile_module.CHUNK_NODES = default_chunk_nodes

    def function(*values):
        return run_program(steps, values)

    for values in (trace_values, run_values):
        try:
            eager_output, eager_grads = eager_result(function, values)
        except (ArithmeticError, ValueError) as error:
            with pytest.raises(type(error)) as raised:
                compiled_result(graph, leaves, values)
            assert str(raised.value) == str(error)
            continue
        output, grads = compiled_result(graph, leaves, values)
        assert same(output, eager_output)
        assert all(same(ours, eager) for ours, eager in zip(grads, eager_grads, strict=True))


# --- semantics -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "bad_value", "error_type", "op_name"),
    [
        (Value.log, -1.0, ValueError, "log"),
        (Value.log, 0.0, ValueError, "log"),
        (Value.sqrt, -1.0, ValueError, "sqrt"),
        (lambda a: 1.0 / a, 0.0, ZeroDivisionError, "div"),
        (lambda a: a**-1, 0.0, ZeroDivisionError, "pow"),
        (lambda a: a**0.5, -4.0, ValueError, "pow"),
        (Value.exp, 1000.0, OverflowError, "exp"),
        (Value.sin, math.inf, ValueError, "sin"),
    ],
)
def test_compile_domain_error_raises_like_eager(function, bad_value, error_type, op_name):
    x = Value(2.0)
    graph = compile((function(x * 1.0) + 1.0) * x)
    x.data = bad_value
    with pytest.raises(error_type) as eager:
        function(Value(bad_value))
    for run in (graph, graph.forward):
        with pytest.raises(error_type, match=op_name) as raised:
            run()
        assert str(raised.value) == str(eager.value)
    assert x.grad == 0.0  # a failed call changes no gradient


def test_compile_twice_called_accumulates_like_backward_twice():
    a, b = Value(1.5), Value(-0.5)
    root = (a * b).tanh() + a.relu() * 3.0
    graph = compile(root)
    graph()
    graph()
    compiled_grads = [a.grad, b.grad]
    a.grad = b.grad = 0.0
    root.backward()
    root.backward()
    assert compiled_grads == [a.grad, b.grad]
    assert compiled_grads[0] != 0.0


def test_compile_forward_recomputes_without_touching_grads():
    a, b = Value(1.5), Value(-0.5)
    graph = compile((a * b).sigmoid())
    a.data = 4.0
    assert graph.forward() == Value(4.0 * -0.5).sigmoid().data
    assert (a.grad, b.grad) == (0.0, 0.0)


@pytest.mark.parametrize("sum_order", ["d + e", "e + d"])
def test_compile_passes_a_sum_gradient_on_without_mixing_terms(sum_order):
    # p feeds both a sum (whose gradient it could share) and a product: sharing the sum's
    # gradient variable would add the product's contribution to q's gradient too.
    def function(a, b):
        q = b * b
        p = a * 2.0
        e = p * p
        d = (p + 1.0) + q
        return d + e if sum_order == "d + e" else e + d

    assert_matches_eager(function, (2.0, 3.0), [(2.0, 3.0), (-1.0, 0.5)])


def test_compile_leaves_are_the_graph_leaves_in_topological_order():
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    graph = compile(c * (a + b) + a)
    assert set(graph.leaves) == {a, b, c}
    assert len(graph.leaves) == 3
    assert graph.leaves == compile(c * (a + b) + a).leaves  # stable


def test_compile_leaves_interior_grads_untouched():
    a = Value(1.5)
    middle = a * a
    graph = compile(middle.exp())
    assert graph() == math.exp(2.25)
    assert middle.grad == 0.0
    assert a.grad == 2 * 1.5 * math.exp(2.25)


def test_compile_of_a_leaf_returns_its_data_and_gradient_one():
    a = Value(3.0)
    graph = compile(a)
    assert graph.leaves == (a,)
    assert graph() == 3.0
    assert a.grad == 1.0


def test_compile_bakes_non_finite_constants():
    a = Value(2.0)
    graph = compile(a * math.inf + (a - math.inf) + a * math.nan + (a + -0.0))
    assert math.isnan(graph())
    assert math.isnan(a.grad)
    a.data, a.grad = -1.0, 0.0
    graph = compile((a * 0.0) * (a * -0.0))  # 0.0 and -0.0 are equal, but not the same constant
    assert math.copysign(1.0, graph()) == math.copysign(1.0, (-0.0) * 0.0)
    root = a * -math.inf + a.relu()
    graph = compile(root)
    assert graph() == math.inf
    assert a.grad == -math.inf


def test_compile_freezes_control_flow_at_trace_time():
    a = Value(1.0)
    graph = compile(a * 2.0 if a.data > 0 else a * 3.0)
    a.data = -1.0
    assert graph() == -2.0  # the branch taken while tracing, like torch.jit.trace


def test_compile_refuses_a_non_value():
    with pytest.raises(TypeError, match="float"):
        compile(1.5)


def test_compile_mlp_hinge_loss_matches_eager():
    rng = random.Random(0)
    sizes = [2, 8, 8, 1]
    weights = [rng.gauss(0.0, 0.7) for _ in range(2 * 8 + 8 + 8 * 8 + 8 + 8 + 1)]
    points = [(rng.uniform(-1, 1), rng.uniform(-1, 1)) for _ in range(20)]
    labels = [1.0 if x * y > 0 else -1.0 for x, y in points]

    def loss(*leaves):
        params = iter(leaves[: len(weights)])
        layers = [
            [([next(params) for _ in range(nin)], next(params)) for _ in range(nout)]
            for nin, nout in zip(sizes, sizes[1:], strict=False)
        ]
        data = leaves[len(weights) :]
        terms = []
        for sample in range(len(points)):
            h = data[3 * sample : 3 * sample + 2]
            for number, layer in enumerate(layers):
                sums = [sum((w * x for w, x in zip(ws, h, strict=True)), b) for ws, b in layer]
                h = sums if number == len(layers) - 1 else [s.relu() for s in sums]
            terms.append((1.0 - data[3 * sample + 2] * h[0]).relu())
        return sum(terms[1:], terms[0]) / len(terms)

    values = [
        *weights,
        *(v for point, label in zip(points, labels, strict=True) for v in (*point, label)),
    ]
    moved = [value + rng.gauss(0.0, 0.3) for value in values]
    assert_matches_eager(loss, values, [values, moved])


def test_compile_long_chain_needs_no_recursion():
    # NOTE: 2.1 * 10**5 nodes keeps the suite fast; 10**6 works too, in about 5 s (see
    # autograd.compiler's docstring).
    x = Value(0.5)
    y = x
    for _ in range(70_000):
        y = (y * 0.999999).relu() + 1e-6
    graph = compile(y)
    assert graph() == y.data
    gradient = x.grad
    x.grad = 0.0
    y.backward()
    assert same(gradient, x.grad)


# --- keep (beyond SPEC): values of chosen nodes after a call ---------------------------------


@pytest.mark.parametrize("chunk_nodes", [1, 4000])
def test_compile_keep_reads_kept_values_after_each_call(chunk_nodes, monkeypatch):
    monkeypatch.setattr(compile_module, "CHUNK_NODES", chunk_nodes)
    a, b, c = Value(1.5), Value(-2.0), Value(0.5)
    product = a * b  # used once by the sum: inlined unless kept
    hidden = (product + c).relu()
    root = hidden * a + product.tanh() * 0.0 + b
    graph = compile(root, keep=[product, hidden, a, root, product])
    plain = compile(root)
    for values in ((1.5, -2.0, 0.5), (-3.0, -1.0, 0.25), (2.0, 2.0, -9.0)):
        for leaf, value in zip((a, b, c), values, strict=True):
            leaf.data = value
        assert graph() == plain()
        expected = [a.data * b.data, max(a.data * b.data + c.data, 0.0), a.data]
        assert graph.kept_values() == [*expected, graph.forward(), expected[0]]


def test_compile_keep_refuses_nodes_outside_the_graph_and_reads_nothing_before_a_call():
    a = Value(2.0)
    root = a * a
    with pytest.raises(ValueError, match="does not depend on"):
        compile(root, keep=[Value(1.0)])
    with pytest.raises(TypeError, match="keep must hold Values"):
        compile(root, keep=[1.0])
    graph = compile(root, keep=[root])
    with pytest.raises(RuntimeError, match="call the compiled graph"):
        graph.kept_values()
    assert compile(a, keep=[a]).forward() == 2.0


# --- templates: chunks of one shape share compiled code, with their own slots and constants ---


def repeated_blocks(*leaves):
    """Twelve blocks of one shape whose constants differ: pow folds its exponent, sub doesn't."""
    a, b = leaves
    total = a * 0.0
    for k in range(12):
        c = 0.25 * (k + 1)
        total = total + ((a * b - c).relu() + (b * b + c) ** (1.0 + c) + c / (a * a + 1.0)).tanh()
    return total


@pytest.mark.parametrize("chunk_nodes", [4, 7, 16])
def test_compile_chunks_of_one_shape_keep_their_own_constants(chunk_nodes, monkeypatch):
    monkeypatch.setattr(compile_module, "CHUNK_NODES", chunk_nodes)
    assert_matches_eager(repeated_blocks, [0.5, -1.5], [(0.5, -1.5), (2.0, 0.75), (-1.0, 0.0)])


def test_compile_shares_one_template_between_repeated_samples(monkeypatch):
    monkeypatch.setattr(compile_module, "CHUNK_NODES", 40)
    weights = [Value(w) for w in (0.5, -1.5, 2.0)]
    terms = []
    for sample in range(200):
        x = Value(sample / 100.0)
        hidden = (weights[0] * x + weights[1]).relu() * weights[2]
        terms.append((hidden - float(sample % 3)) * (hidden - float(sample % 3)))
    root = sum(terms[1:], terms[0])
    graph = compile(root, keep=[terms[7]])
    shapes = {id(template) for template, _ in graph._parts}
    assert len(shapes) < len(graph._parts) // 4  # samples repeat, so their chunks do
    assert same(graph(), root.data)
    assert graph.kept_values() == [terms[7].data]
    gradients = [w.grad for w in weights]
    for w in weights:
        w.grad = 0.0
    root.backward()
    assert all(same(ours, w.grad) for ours, w in zip(gradients, weights, strict=True))


def test_compile_source_has_every_placeholder_filled_in():
    a = Value(1.5)
    graph = compile((a - 0.125) * 3.0 + a**2.5)
    source = graph.source
    builtins.compile(source, "<source>", "exec")  # valid Python
    for constant in ("0.125", "3.0", "2.5", "store[0]", "store[1]"):
        assert constant in source
    assert not [n for n in re.findall(r"\d+", source) if int(n) >= compile_module._PLACEHOLDER]


def test_compile_orders_ops_as_topological_order_does():
    """The compiled code sums gradients in the eager engine's order: its ops come in
    topological_order's order (leaves are numbered as met, which changes no float)."""
    rng = random.Random(3)
    leaves = [Value(rng.uniform(-1, 1)) for _ in range(6)]
    node = leaves[0]
    made = list(leaves)
    for _ in range(300):
        a, b = rng.choice(made), rng.choice(made)
        node = [a * b, a + b, (a - 0.5).tanh(), a.relu() + node][rng.randrange(4)]
        made.append(node)
    root = sum(made[-40:], made[0])
    graph = compile(root)
    assert graph._order == [n for n in topological_order(root) if n._op is not None]
    assert set(graph.leaves) == {n for n in topological_order(root) if n._op is None}


def test_compile_cuts_a_small_batch_graph_so_that_its_samples_share_templates():
    """A graph of under 64,000 nodes gets chunks of at most 1/16 of it (at least 1,000 nodes),
    so a batch of 20 samples of an MLP 2-16-16-1 (12,900 nodes) compiles 3 templates for its
    20 chunks, not one per chunk of 4,000."""
    from nn import MLP, hinge_loss

    rng = random.Random(0)
    model = MLP(2, [16, 16, 1], seed=0)
    points = [[Value(rng.uniform(-1, 1)), Value(rng.uniform(-1, 1))] for _ in range(20)]
    loss = hinge_loss([model(x) for x in points], [1 if k % 2 else -1 for k in range(20)])
    graph = compile(loss)
    templates = {id(template) for template, _ in graph._parts}
    assert len(graph._parts) >= 12
    assert len(templates) <= 4
    for p in model.parameters():
        p.grad = 0.0
    assert same(graph(), loss.data)
    compiled = [p.grad for p in model.parameters()]
    for p in model.parameters():
        p.grad = 0.0
    loss.backward()
    assert all(same(c, p.grad) for c, p in zip(compiled, model.parameters(), strict=True))


def test_compiled_relu_passes_nothing_where_it_is_off_even_an_infinite_gradient():
    """relu selects in compiled code as in eager backward and PyTorch: at x <= 0 the gradient
    it passes is 0, not 0 * inf = nan; where x > 0 the infinity passes through."""
    torch = require("torch")
    for x, scale in ((-1.0, math.inf), (0.0, -math.inf), (2.0, math.inf), (-1.0, math.nan)):
        a, b = Value(x), Value(scale)
        root = a.relu() * b + a * 0.5
        graph = compile(root)
        graph()
        compiled = a.grad
        a.grad = b.grad = 0.0
        root.backward()
        t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        (torch.relu(t) * scale + t * 0.5).backward()
        for ours in (compiled, a.grad):
            assert same(ours, t.grad.item()), (x, scale, ours, t.grad.item())


# --- no_grad (beyond SPEC): leaves that are data ---------------------------------------------


def mlp_batch(samples: int, seed: int = 0):
    """A 2-8-1 relu MLP's mean squared error on `samples` points:
    (loss, parameters, inputs, targets)."""
    rng = random.Random(seed)
    weights = [[Value(rng.uniform(-1, 1)) for _ in range(3)] for _ in range(8)]
    out = [Value(rng.uniform(-1, 1)) for _ in range(9)]
    inputs = [[Value(rng.uniform(-1, 1)) for _ in range(2)] for _ in range(samples)]
    targets = [Value(rng.uniform(-1, 1)) for _ in range(samples)]
    terms = []
    for x, t in zip(inputs, targets, strict=True):
        hidden = [(w[0] * x[0] + w[1] * x[1] + w[2]).relu() for w in weights]
        y = sum((v * h for v, h in zip(out, hidden, strict=False)), out[8])
        terms.append((y - t) * (y - t))
    parameters = [p for w in weights for p in w] + out
    return sum(terms[1:], terms[0]) * (1.0 / samples), parameters, inputs, targets


@pytest.mark.parametrize("chunk_nodes", [compile_module.CHUNK_NODES, 7, 40])
def test_compile_no_grad_leaves_are_read_each_call_and_their_grad_is_never_written(
    chunk_nodes, monkeypatch
):
    monkeypatch.setattr(compile_module, "CHUNK_NODES", chunk_nodes)
    loss, parameters, inputs, targets = mlp_batch(30)
    data = [leaf for x in inputs for leaf in x] + targets
    graph = compile(loss, no_grad=data)
    rng = random.Random(1)
    for _ in range(3):
        for leaf in data:
            leaf.data = rng.uniform(-2, 2)
            leaf.grad = 7.0  # a value no gradient would leave there
        for p in parameters:
            p.grad = 0.0
        value = graph()
        compiled = [p.grad for p in parameters]
        assert all(leaf.grad == 7.0 for leaf in data)
        for leaf in [*parameters, *data]:
            leaf.grad = 0.0
        loss_again = _eager_loss_with(parameters, inputs, targets)
        loss_again.backward()
        assert same(value, loss_again.data)
        assert all(same(c, p.grad) for c, p in zip(compiled, parameters, strict=True))


def _eager_loss_with(parameters, inputs, targets):
    """mlp_batch's loss on these parameters and these leaves' current data, built eagerly."""
    weights = [parameters[3 * j : 3 * j + 3] for j in range(8)]
    out = parameters[24:]
    terms = []
    for x, t in zip(inputs, targets, strict=True):
        hidden = [(w[0] * x[0] + w[1] * x[1] + w[2]).relu() for w in weights]
        y = sum((v * h for v, h in zip(out, hidden, strict=False)), out[8])
        terms.append((y - t) * (y - t))
    return sum(terms[1:], terms[0]) * (1.0 / len(terms))


def test_compile_no_grad_writes_less_code_and_shares_templates():
    loss, _, inputs, targets = mlp_batch(200)
    data = [leaf for x in inputs for leaf in x] + targets
    plain, lean = compile(loss), compile(loss, no_grad=data)
    assert len(lean.source.splitlines()) < len(plain.source.splitlines())
    assert len({id(t) for t, _ in lean._parts}) <= len({id(t) for t, _ in plain._parts})


def test_compile_no_grad_refuses_what_is_not_a_leaf_and_ignores_unused_data():
    a, b = Value(1.0), Value(2.0)
    product = a * b
    root = product + 1.0
    with pytest.raises(TypeError, match="no_grad must hold Values"):
        compile(root, no_grad=[1.0])
    with pytest.raises(ValueError, match="no_grad takes leaves"):
        compile(root, no_grad=[product])
    elsewhere = Value(3.0)  # data the graph does not use (an input a model ignores): allowed
    graph = compile(root, no_grad=[b, elsewhere])
    assert graph() == 3.0
    assert (a.grad, b.grad, elsewhere.grad) == (2.0, 0.0, 0.0)
