"""`compile(root)`: the graph below `root` traced once into straight-line Python over floats.

Each op's forward and derivative rules from the rule table are pasted in as expressions over
locals, so a call builds no Values and costs less than hand-written loops. Chunks of the graph
that have one shape share one compiled template, so compiling costs ~3.5 us per node where the
graph repeats itself (the benchmark's W6 MLP, 581,000 nodes: ~2 s; a 10**6-node chain: 1.5 s)
and ~20 us where it does not (CPython's own compile() of the generated source is most of it).
The first 4-5 calls run about 30% slower: CPython 3.11 specializes a function's bytecode only
after ~8 entries, and each chunk is entered twice per call.
"""

from __future__ import annotations

import builtins
import functools
import gc
import io
import itertools
import keyword
import math
import random
import re
import tokenize
import types
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

from autograd.ops import FLOAT_FUNCTIONS, OPS, Op
from autograd.value import Value, domain_error

# Interior nodes per generated function, at most (at least half of it, see `_cut`). CPython
# compiles one function of 10**5 lines about twice as slowly per line as many small ones; values
# that cross a chunk boundary go through a list, so smaller chunks make slower steps (W6: 35 ms
# at 4,000 nodes, 50 ms at 1,000). A graph of under 64,000 nodes gets smaller chunks, down to
# SMALL_CHUNK_NODES, so that its repeated samples still repeat as chunks: `fit(compiled=True)`'s
# 12,900-node batch graph on moons compiles in 60 ms instead of 130 ms.
CHUNK_NODES = 4000
SMALL_CHUNK_NODES = 1000

_RULE_VARIABLES = ("x", "y", "out")


@dataclass(frozen=True)
class _Rule:
    """A rule's source as a `str.format` template over {x}, {y}, {out}, and the names it calls."""

    template: str
    free_names: frozenset[str]
    uses: dict[str, int]  # how often each of x, y, out occurs
    conditional: bool  # an `if`: an inlined operand might not be evaluated
    constant: float | None  # the rule's value when it is a plain number, such as "1.0"


@functools.cache
def _rule(source: str) -> _Rule:
    """Parse a rule once: its tokens tell the names apart from numbers and keywords."""
    pieces = []
    conditional = False
    free_names = set()
    uses = dict.fromkeys(_RULE_VARIABLES, 0)
    position = 0
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.NAME:
            continue
        if keyword.iskeyword(token.string):
            conditional = conditional or token.string == "if"
            continue
        if token.string not in _RULE_VARIABLES:
            free_names.add(token.string)
            continue
        uses[token.string] += 1
        start, end = token.start[1], token.end[1]
        pieces.append(_escape(source[position:start]) + "{" + token.string + "}")
        position = end
    pieces.append(_escape(source[position:]))
    try:
        constant = float(source)
    except ValueError:
        constant = None
    return _Rule("".join(pieces), frozenset(free_names), uses, conditional, constant)


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _literal(number: float) -> str:
    """A constant input as source: a literal, or a name bound to it for inf and nan."""
    if math.isnan(number):
        return "nan"
    if math.isinf(number):
        return "inf" if number > 0 else "(-inf)"
    text = repr(float(number))
    return f"({text})" if text.startswith("-") else text


class CompiledGraph:
    """A graph frozen by `compile`: `cg()` runs forward and backward, `cg.forward()` forward only.

    `leaves` are the leaf Values it reads, in the order the trace met them; `source` is the
    generated code.
    A domain error raises what the eager engine raises for the first failing op (in topological
    order), and changes no gradient.

    Beyond SPEC: nodes passed as `keep` to `compile` stay materialised; `kept_values()` reads
    their values as the last `cg()` or `cg.forward()` computed them (e.g. a model's outputs,
    which the loss graph otherwise inlines). Leaves passed as `no_grad` (a batch's inputs and
    targets) are read at each call, but no gradient is computed for them and their `.grad` is
    never written, as for PyTorch tensors with requires_grad=False.
    """

    def __init__(self, root: Value, keep: Sequence[Value] = (), no_grad: Sequence[Value] = ()):
        # The graph's Values are all alive, so each automatic garbage collection would walk them
        # all, for nothing: tracing and generating create no cycles.
        collecting = gc.isenabled()
        gc.disable()
        try:
            generator = _Generator(root, keep, no_grad)
            self.leaves: tuple[Value, ...] = tuple(generator.leaves)
            namespace = dict(FLOAT_FUNCTIONS)
            self._parts = []  # per chunk: (its template, the values of its placeholders)
            templates = {}
            for start, end in generator.bounds:
                key, values = generator.shape(start, end)
                template = templates.get(key)
                if template is None:
                    template = templates[key] = _Template(key, namespace)
                self._parts.append((template, values))
            if not generator.interior:  # the root is a leaf: its data, and its gradient 1
                self._parts.append((_Template(None, namespace), []))
            self._chunks = tuple(
                template.instance(values, namespace) for template, values in self._parts
            )
        finally:
            if collecting:
                gc.enable()
        # The ops (dot nodes as their _Terms), to find the one a domain error comes from.
        self._order = generator.interior
        self._dots = {last: node for node, last in generator.expanded.items()}
        self._size = sum(isinstance(node, Value) for node in generator.where)  # Values traced
        self._kept_slots = [generator.value_slot[generator.where[node]] for node in keep]
        self._store: list | None = None  # the last call's values, for kept_values
        self._blank = [0.0] * (generator.store_size - len(self.leaves))  # all but leaf data
        # Which leaves get a gradient (itertools.compress picks their grads from the store).
        self._wants_grad = [-1 - k not in generator.no_grad for k in range(len(self.leaves))]
        self._grad_leaves = tuple(itertools.compress(self.leaves, self._wants_grad))

    @property
    def source(self) -> str:
        """The generated Python: one generator function per chunk of the graph."""
        return "\n".join(
            template.filled(number, values) for number, (template, values) in enumerate(self._parts)
        )

    def __call__(self) -> float:
        """Recompute the output from the leaves' data, add d output / d leaf to each leaf's grad."""
        leaves = self.leaves
        store = self._new_store()
        try:
            chunks = [chunk(store) for chunk in self._chunks]
            for chunk in chunks:
                output = next(chunk)
            for chunk in reversed(chunks):
                next(chunk, None)
        except (ArithmeticError, ValueError) as error:
            self._raise_domain_error(store, error)
        self._store = store
        grads = itertools.compress(store[len(leaves) : 2 * len(leaves)], self._wants_grad)
        for leaf, gradient in zip(self._grad_leaves, grads, strict=True):
            leaf.grad += gradient
        return output

    def forward(self) -> float:
        """Recompute and return the output from the leaves' data; no gradient is touched."""
        store = self._new_store()
        try:
            for chunk in [chunk(store) for chunk in self._chunks]:
                output = next(chunk)
        except (ArithmeticError, ValueError) as error:
            self._raise_domain_error(store, error)
        self._store = store
        return output

    def kept_values(self) -> list[float]:
        """The values of the `keep` nodes (in `keep`'s order) from the last call."""
        if self._store is None:
            raise RuntimeError("kept_values: call the compiled graph (or its forward) first")
        store = self._store
        return [store[slot] for slot in self._kept_slots]

    def _new_store(self) -> list:
        """The leaves' data now, then zeros for their grads and for what chunks pass on."""
        store = [leaf.data for leaf in self.leaves]
        store += self._blank
        return store

    def _raise_domain_error(self, store: list, error: Exception) -> NoReturn:
        """Rerun the forward op by op, on the same leaf data, to raise the eager engine's error."""
        values = dict(zip(self.leaves, store[: len(self.leaves)], strict=True))
        for node in self._order:
            op = node._op
            x = values[node._x] if node._dx is not None else node._x
            y = values[node._y] if node._dy is not None else node._y
            try:
                values[node] = op.forward(x, y)
            except (ArithmeticError, ValueError) as op_error:
                raise domain_error(op, op_error, x, y) from None
            dot = self._dots.get(node)
            if dot is not None:  # the last sum of a dot node's terms is the dot's value
                values[dot] = values[node]
        raise error  # not a forward error: the fast path met something the checked one did not

    def __repr__(self) -> str:
        return f"CompiledGraph({self._size} nodes, {len(self.leaves)} leaves)"


def compile(
    root: Value, *, keep: Sequence[Value] = (), no_grad: Sequence[Value] = ()
) -> CompiledGraph:
    """Trace the graph below `root` once into straight-line Python; see `CompiledGraph`.

    Like `torch.jit.trace`, only the ops that were built are recorded: Python control flow that
    chose them is frozen, while data-dependent derivatives (relu, abs, ...) are decided per call.
    Interior nodes' `.grad` are left untouched; leaves accumulate as with `root.backward()`.
    `keep` (beyond SPEC): nodes of the graph whose values each call keeps, for `kept_values()`.
    `no_grad` (beyond SPEC): leaves that are data, such as a batch's inputs: each call reads
    them, computes no gradient for them and leaves their `.grad` alone (leaves that root does
    not depend on are allowed, and ignored).
    """
    if not isinstance(root, Value):
        raise TypeError(f"compile needs a Value, got {type(root).__name__}")
    keep, no_grad = list(keep), list(no_grad)
    for option, nodes in (("keep", keep), ("no_grad", no_grad)):
        for node in nodes:
            if not isinstance(node, Value):
                raise TypeError(f"compile: {option} must hold Values, got {type(node).__name__}")
    return CompiledGraph(root, keep, no_grad)


# --- code generation -------------------------------------------------------------------------
# The generated code is one generator function per chunk of interior nodes (in topological
# order). Each takes `store`, a list laid out as
#   [leaf data (L)] [leaf grads (L)] [values and grads passed between chunks]
# A chunk loads the values it needs from earlier chunks, computes its nodes into locals, saves
# those later chunks read, and yields (the last chunk yields the output). Resumed in reverse
# order, it runs its backward: it loads the grads later chunks added to its nodes and to earlier
# ones, adds its own contributions in the eager engine's order, and saves them back (an input
# from an earlier chunk that gets one contribution here has it added to its slot in place).
#
# Two rewrites keep the code close to what one would write by hand, without changing a single
# float: a node used once, whose value no derivative rule reads (the products in a neuron's
# sum), is inlined into its user's expression instead of getting a variable; and a node whose
# only gradient is its user's, passed through unchanged (a term of a sum), shares its variable.
#
# Generating and compiling source costs ~20 us per node, so chunks of the same shape share one
# compiled template. A chunk's shape (its key) says, per node, its op, where each input comes
# from (a node of the chunk, the k-th outside input, a constant) and how the node is used; the
# store slots and most constants are the template's placeholder constants, replaced per chunk
# in a copy of the code object (`CodeType.replace`), which costs microseconds. Chunks end where
# the content says (the smallest hash in a window), so a layer's or a sample's repeated
# structure gives repeated keys wherever it starts.

# Placeholder j is the int _PLACEHOLDER + j, for a store slot or a constant: the code never holds
# other ints that large (constants are floats), and the compiler folds nothing into them.
_PLACEHOLDER = 2**50
_USED_OUTSIDE, _KEPT, _ONE_USER_HERE, _ROOT = 1, 2, 4, 8  # a node's flags in a key
_FAR = 16  # an input this many nodes back or more looks the same to the chunk cutter
# A node's shape for the cutter: its op, and for x and y a code: 0 for a constant, 1.._FAR for
# how far back, _FAR + 1 for a leaf; numbered op + ops * (x + codes * y), which this table
# turns into a random 64-bit number (see _cut).
_OP_IDS = {op: number for number, op in enumerate(OPS.values())}
_X_STEP, _Y_STEP = len(_OP_IDS), len(_OP_IDS) * (_FAR + 2)
_SHAPES = [*map(random.Random(15).getrandbits, [64] * (_Y_STEP * (_FAR + 2)))]


class _Generator:
    """Plans a traced graph's chunks and store slots; `shape` gives each chunk's key."""

    def __init__(self, root: Value, keep: Sequence[Value], no_grad: Sequence[Value] = ()):
        self._number(root)
        for node in keep:
            if node not in self.where:
                raise ValueError(f"compile: keep holds {node!r}, which root does not depend on")
        for node in no_grad:
            if node._op is not None:
                raise ValueError(f"compile: no_grad takes leaves, and {node!r} is made by an op")
        # Being data is a property of the leaf (as requires_grad=False is), so a no_grad leaf
        # that root does not depend on (an input a model ignores) is simply not in the graph.
        self.no_grad = {self.where[node] for node in no_grad if node in self.where}  # (< 0)
        count = len(self.interior)
        most = min(CHUNK_NODES, max(count // 16, SMALL_CHUNK_NODES))
        self.bounds = _cut(self.shapes, most)
        chunk_end = [0] * count  # where each node's chunk ends
        for start, end in self.bounds:
            chunk_end[start:end] = [end] * (end - start)
        leaves = len(self.leaves)
        self.value_slot = {-1 - k: k for k in range(leaves)}
        self.grad_slot = {-1 - k: leaves + k for k in range(leaves)}
        self.store_size = 2 * leaves
        last_user = self.last_user
        for i in range(count):
            if last_user[i] >= chunk_end[i]:
                self.value_slot[i] = self.store_size
                self.grad_slot[i] = self.store_size + 1
                self.store_size += 2
        self.kept = {self.where[node] for node in keep}
        for i in self.kept:  # leaves and nodes later chunks read have a value slot already
            if i not in self.value_slot:
                self.value_slot[i] = self.store_size
                self.store_size += 1
        self.root_position = self.where[root] if self.interior else None

    def _number(self, root: Value) -> None:
        """Number the graph's nodes in one depth-first pass, and note what the chunks need.

        interior: the ops, parents first, in `topological_order`'s order (so gradients add up
        in the eager engine's order), a dot node as the _Terms that compute it (see expanded);
        leaves: the leaves, in the order met. where: node ->
        its position, i for interior[i], -1 - k for leaves[k]. Per interior node: inputs (x, y
        positions, None for a constant or no y), users (how many interior nodes use it),
        last_user, and shapes (what the chunk cutter looks at, see _SHAPES).
        """
        self.where = where = {}
        self.interior = interior = []
        self.leaves = leaves = []
        self.inputs = inputs = []
        self.users = users = []
        self.last_user = last_user = []
        self.shapes = shapes = []
        op_ids, far, random_of, x_step, y_step = _OP_IDS, _FAR, _SHAPES, _X_STEP, _Y_STEP
        # Depth-first as backward's walk goes (engine._walk), with `where` as the set of nodes
        # placed: a node is placed once its parents are; one that waits for them is pushed back
        # and checked again when popped. One pass over ~10**6 nodes: no helper calls.
        stack = []
        # n-ary node -> the last of the products and sums (_Terms) that compute it
        self.expanded = expanded = {}
        node = root
        if root._op is None:
            where[root] = -1
            leaves.append(root)
            node = None
        while node is not None:
            if node not in where:
                if node._dx is None and node._dy is None:  # an n-ary node (dot_product)
                    last = expanded.get(node)
                    if last is not None:  # its terms are placed: it is their last sum
                        where[node] = where[last]
                        node = stack.pop() if stack else None
                        continue
                    waiting = [p for p in node._x if p not in where and p._op is not None]
                    stack.append(node)
                    if not waiting:  # now compute it as the products and sums it stands for
                        waiting = [expanded.setdefault(node, _terms(node))]
                    stack.extend(waiting)  # its last parent is walked first, as backward does
                    node = stack.pop()
                    continue
                x = node._x if node._dx is not None else None
                if x is not None and x not in where:
                    if x._op is None:
                        where[x] = -1 - len(leaves)
                        leaves.append(x)
                        x = None
                else:
                    x = None
                y = node._y if node._dy is not None else None
                if y is not None and y not in where:
                    if y._op is None:
                        where[y] = -1 - len(leaves)
                        leaves.append(y)
                        y = None
                else:
                    y = None
                if x is not None or y is not None:
                    stack.append(node)
                    if x is not None and y is not None:
                        stack.append(x)
                    node = x if y is None else y
                    continue
                i = len(interior)
                shape = op_ids[node._op]
                if node._dx is None:
                    x = None
                else:
                    x = where[node._x]
                    if x >= 0:
                        users[x] += 1
                        last_user[x] = i
                        shape += x_step * (i - x if i - x < far else far)
                    else:
                        shape += x_step * (far + 1)
                if node._dy is None:
                    y = None
                else:
                    y = where[node._y]
                    if y >= 0:
                        users[y] += 1
                        last_user[y] = i
                        shape += y_step * (i - y if i - y < far else far)
                    else:
                        shape += y_step * (far + 1)
                where[node] = i
                interior.append(node)
                inputs.append((x, y))
                shapes.append(random_of[shape])
                users.append(0)
                last_user.append(-1)
            node = stack.pop() if stack else None

    def shape(self, start: int, end: int) -> tuple[tuple, list]:
        """The key of the chunk interior[start:end] and the values of its placeholders.

        The key is (nodes, data). Per node: (op, x, y, flags), an input being a node's index in
        the chunk (>= 0), -1 - k for the k-th outside input, "" for a constant that is a
        placeholder, or the source text of a constant baked in; data holds the outside inputs
        that are no_grad leaves. Placeholders are numbered in the order `_Template` reads them.
        """
        interior, inputs, kept, root = self.interior, self.inputs, self.kept, self.root_position
        value_slot, grad_slot = self.value_slot, self.grad_slot
        users, last_user, no_grad = self.users, self.last_user, self.no_grad
        outside = {}
        data = []  # the outside inputs (as -1 - k) that are no_grad leaves: no grad slot
        key = []
        values = []

        def outside_input(source: int) -> int:
            """-1 - k for the chunk's k-th outside input; its placeholders when first met."""
            k = outside.get(source)
            if k is None:
                k = outside[source] = len(outside)
                if source in no_grad:
                    data.append(-1 - k)
                    values.append(value_slot[source])
                else:
                    values.extend((value_slot[source], grad_slot[source]))
            return -1 - k

        for i in range(start, end):
            node = interior[i]
            op = node._op
            x, y = inputs[i]
            if x is None:  # a constant
                x = _constant(op, 0, node._x, values)
            elif x >= start:
                x -= start
            else:
                x = outside_input(x)
            if y is None:  # a constant, or no y
                y = None if node._y is None else _constant(op, 1, node._y, values)
            elif y >= start:
                y -= start
            else:
                y = outside_input(y)
            if last_user[i] >= end:
                flags = _USED_OUTSIDE
                values += (value_slot[i], grad_slot[i])
            else:
                flags = _ONE_USER_HERE if users[i] == 1 else 0
                if kept and i in kept:
                    flags |= _KEPT
                    values.append(value_slot[i])
            if i == root:
                flags |= _ROOT
            key.append((op, x, y, flags))
        return (tuple(key), tuple(data)), values


class _Term:
    """A product or a sum that compiled code computes for part of an n-ary node: dot_product's
    w0*x0 + w1*x1 + ... as (w0*x0 + w1*x1) + ..., the same floats in the same order."""

    __slots__ = ("_dx", "_dy", "_op", "_x", "_y")

    def __init__(self, op: Op, x, y):
        self._op, self._x, self._y = op, x, y
        self._dx = self._dy = 1.0  # both inputs are nodes (only `is None` is ever asked)


def _terms(node: Value) -> _Term:
    """The last of the sums that compute dot node `node` from its parents (w0, x0, w1, x1, ...)."""
    factors = node._x
    total = _Term(OPS["mul"], factors[0], factors[1])
    for k in range(2, len(factors), 2):
        total = _Term(OPS["add"], total, _Term(OPS["mul"], factors[k], factors[k + 1]))
    return total


def _constant(op: Op, position: int, number: float, values: list) -> str:
    """A constant input's entry in a key: "" (a placeholder, its value appended), or its text."""
    if _op_rules(op).placeholder_safe[position] and math.isfinite(number):
        values.append(number)
        return ""
    return _literal(number)


def _cut(shapes: list[int], most: int) -> list[tuple[int, int]]:
    """(start, end) of each chunk of `most // 2` to `most` nodes.

    A chunk ends after the node, in that window, whose context (the sum of the random shapes of
    the `most // 2` nodes up to it) is lowest; a node whose context repeats one of the 4
    before it (deep in a run of like nodes) never ends one. So the cuts depend on the content,
    not on where the previous chunk ended, and repeated stretches of a graph (its samples, a
    layer's neurons) are cut alike.
    """
    count = len(shapes)
    least = max(1, most // 2)
    prefix = [0, *itertools.accumulate(shapes)]
    padded = [0] * least + prefix  # a context reaching before the first node sees zeros
    contexts = [h - old for h, old in zip(prefix[1:], padded[1:], strict=False)]
    never = 2**64 * (count + 1)  # above every context
    ends = [
        never if context in (a, b, c, d) else context
        for context, a, b, c, d in zip(
            contexts,
            [None, *contexts],
            [None, None, *contexts],
            [None, None, None, *contexts],
            [None, None, None, None, *contexts],
            strict=False,
        )
    ]
    bounds = []
    start = 0
    while start < count:
        low, high = start + least - 1, min(start + most, count)
        end = high if low >= high - 1 else ends.index(min(ends[low:high]), low, high) + 1
        bounds.append((start, end))
        start = end
    return bounds


class _Template:
    """One chunk shape's generator function, compiled once; `instance` fills in placeholders."""

    def __init__(self, key: tuple | None, namespace: dict):
        if key is None:  # the root is a leaf
            self.source = "def chunk(store):\n    yield store[0]\n    store[1] = 1.0\n"
        else:
            self.source = _template_source(key)
        scope = dict(namespace)
        exec(builtins.compile(self.source, "<compiled graph>", "exec"), scope)  # noqa: S102
        function = scope["chunk"]
        self.code = function.__code__
        self.defaults = function.__defaults__
        self.consts = list(self.code.co_consts)
        self.holes = []  # (index in co_consts, placeholder number)
        for index, const in enumerate(self.consts):
            number = _placeholder_number(const)
            if number is not None:
                self.holes.append((index, number))

    def instance(self, values: list, namespace: dict) -> types.FunctionType:
        consts = self.consts.copy()
        for index, number in self.holes:
            consts[index] = values[number]
        code = self.code.replace(co_consts=tuple(consts))
        return types.FunctionType(code, namespace, "chunk", self.defaults)

    def filled(self, number: int, values: list) -> str:
        """This template's source for chunk `number`: its placeholders replaced by `values`."""

        def value(match: re.Match) -> str:
            filling = values[int(match.group()) - _PLACEHOLDER]
            return str(filling) if type(filling) is int else _literal(filling)

        source = re.sub(r"\b[0-9]{16}\b", value, self.source)
        return source.replace("def chunk(", f"def chunk_{number}(", 1)


def _placeholder_number(const) -> int | None:
    if type(const) is int and _PLACEHOLDER <= const < 2 * _PLACEHOLDER:
        return const - _PLACEHOLDER
    return None


def _template_source(chunk_key: tuple) -> str:
    """The source of `def chunk(store, ...)` for a chunk of shape `chunk_key` (see `shape`)."""
    key, data = chunk_key
    placeholders = iter(range(_PLACEHOLDER, 2 * _PLACEHOLDER))
    name = [f"v{i}" for i in range(len(key))]
    operands = []  # per node: [x, y] as source text
    parents = []  # per node: its Value inputs as (input, 0 for x or 1 for y)
    users = [[] for _ in key]  # per node: each (user, position) in the chunk
    value_slot, grad_slot = {}, {}  # node or outside input -> placeholder text
    outside = []  # the outside inputs, as -1 - k
    for i, (_, x, y, flags) in enumerate(key):
        texts, node_parents = [], []
        for position, source in enumerate((x, y)):
            if source is None:
                texts.append("None")
            elif source == "":
                texts.append(str(next(placeholders)))
            elif type(source) is str:
                texts.append(source)
            else:
                if source not in data:  # a no_grad leaf is not a parent: it gets no gradient
                    node_parents.append((source, position))
                if source >= 0:
                    users[source].append((i, position))
                    texts.append(name[source])
                else:
                    if source not in value_slot:
                        outside.append(source)
                        value_slot[source] = str(next(placeholders))
                        if source not in data:
                            grad_slot[source] = str(next(placeholders))
                    texts.append(f"e{-1 - source}")
        operands.append(texts)
        parents.append(node_parents)
        if flags & _USED_OUTSIDE:
            value_slot[i] = str(next(placeholders))
            grad_slot[i] = str(next(placeholders))
        elif flags & _KEPT:
            value_slot[i] = str(next(placeholders))
    root = next((i for i, entry in enumerate(key) if entry[3] & _ROOT), None)

    def inlinable(i: int) -> bool:
        """True if node i can be an expression inside its only user instead of a variable."""
        if not key[i][3] & _ONE_USER_HERE or key[i][3] & _KEPT or rules[i].grads_read_out:
            return False
        user, position = users[i][0]
        user_rules = rules[user]
        # The forward must evaluate it exactly once, and no derivative the user emits read it.
        return user_rules.forward_once[position] and not any(
            user_rules.grads_read[rule][position] for _, rule in parents[user]
        )

    rules = [_op_rules(op) for op, *_ in key]
    free_names = {"inf", "nan"}  # constants may need them
    inlined = {}  # node -> (its expression, how deeply inlined expressions nest in it)
    forward = []
    for i in range(len(key)):
        texts = operands[i]
        nesting = 0
        for parent, position in parents[i]:
            if parent in inlined:
                expression, depth = inlined[parent]
                texts = texts.copy()
                texts[position] = f"({expression})"
                nesting = max(nesting, depth)
        free_names |= rules[i].free_names
        expression = rules[i].forward.format(x=texts[0], y=texts[1])
        if nesting < _MAX_INLINE_DEPTH and inlinable(i):
            inlined[i] = (expression, nesting + 1)
        else:
            forward.append(f"    {name[i]} = {expression}")

    shared = [i for i in range(len(key)) if key[i][3] & _USED_OUTSIDE]
    # An input from outside the chunk that gets one gradient term here (a weight, once per
    # sample) adds it to its slot in place, rather than being loaded, updated and saved.
    terms = dict.fromkeys(outside, 0)
    for node_parents in parents:
        for parent, _ in node_parents:
            if parent < 0:
                terms[parent] += 1
    in_place = {source for source, count in terms.items() if count == 1}
    accumulated = [s for s in outside if s not in in_place and s not in data]
    grad_name = {i: f"g{i}" for i in shared}
    grad_name.update({source: f"h{-1 - source}" for source in accumulated})
    if root is not None:
        grad_name[root] = f"g{root}"
    backward = []
    for i in reversed(range(len(key))):
        gradient = grad_name[i]
        texts = operands[i]
        for parent, position in parents[i]:
            constant = rules[i].constants[position]
            negative = constant == -1.0
            if constant in (1.0, -1.0):  # add, sub, neg: no multiplication by +-1
                term = gradient
            else:
                local_grad = rules[i].grads[position].format(x=texts[0], y=texts[1], out=name[i])
                if not local_grad.isidentifier():
                    local_grad = f"({local_grad})"
                term = f"{local_grad} * {gradient}"
                if key[i][0].selects:  # relu passes nothing where its derivative is 0 (as eager)
                    term = f"(local * {gradient} if (local := {local_grad}) else 0.0)"
            sign = "-" if negative else "+"
            if parent in in_place:
                slot = grad_slot[parent]  # (x = x + t: two instructions fewer than x += t)
                backward.append(f"    store[{slot}] = store[{slot}] {sign} {term}")
            elif parent in grad_name:
                backward.append(f"    {grad_name[parent]} {sign}= {term}")
            elif term == gradient and not negative and len(users[parent]) == 1:
                grad_name[parent] = gradient  # the user's gradient, unchanged: share it
            else:
                grad_name[parent] = f"g{parent}"
                backward.append(f"    {grad_name[parent]} = {'-' if negative else ''}{term}")

    # Default arguments make the rule functions locals: a global lookup per use is slower.
    defaults = "".join(f", {function}={function}" for function in sorted(free_names))
    lines = [f"def chunk(store{defaults}):"]
    lines += [f"    e{-1 - source} = store[{value_slot[source]}]" for source in outside]
    lines += forward
    saved = [i for i in range(len(key)) if i in value_slot]  # shared and kept nodes
    lines += [f"    store[{value_slot[i]}] = {name[i]}" for i in saved]
    if root is not None:
        lines += [f"    yield {name[root]}", f"    {grad_name[root]} = 1.0"]
    else:
        lines.append("    yield")
    lines += [f"    {grad_name[i]} = store[{grad_slot[i]}]" for i in shared]
    lines += [f"    {grad_name[s]} = store[{grad_slot[s]}]" for s in accumulated]
    lines += backward
    lines += [f"    store[{grad_slot[s]}] = {grad_name[s]}" for s in accumulated]
    return "\n".join(lines) + "\n"


# Inlined expressions nest at most this deep: Python's parser refuses very deep nesting.
_MAX_INLINE_DEPTH = 16


@dataclass(frozen=True)
class _OpRules:
    """An op's rules as templates, and what the generator needs to know about them."""

    forward: str
    grads: tuple[str, ...]
    constants: tuple[float | None, ...]  # each derivative's value when it is a plain number
    free_names: frozenset[str]
    grads_read_out: bool  # a derivative reads the op's output, so it needs a variable
    forward_once: tuple[bool, bool]  # the forward evaluates x (y) exactly once: no `if`
    grads_read: tuple[tuple[bool, bool], ...]  # per derivative: does it read x, y?
    placeholder_safe: tuple[bool, bool]  # a constant x (y) can be a placeholder (see below)


@functools.cache
def _op_rules(op: Op) -> _OpRules:
    forward = _rule(op.forward_source)
    grads = [_rule(source) for source in op.grad_sources]
    return _OpRules(
        forward=forward.template,
        grads=tuple(grad.template for grad in grads),
        constants=tuple(grad.constant for grad in grads),
        free_names=forward.free_names.union(*(grad.free_names for grad in grads)),
        grads_read_out=any(grad.uses["out"] for grad in grads),
        forward_once=tuple(
            not forward.conditional and forward.uses[variable] == 1 for variable in ("x", "y")
        ),
        grads_read=tuple((grad.uses["x"] > 0, grad.uses["y"] > 0) for grad in grads),
        placeholder_safe=(_placeholder_safe(op, "x"), _placeholder_safe(op, "y")),
    )


def _placeholder_safe(op: Op, constant: str) -> bool:
    """True if no rule of `op` folds a constant input `constant` into another constant (as
    `y - 1.0` would), so that the compiled code holds it as is and a chunk can replace it."""
    sources = (op.forward_source, *op.grad_sources)
    consts = []
    for number in (_PLACEHOLDER, _PLACEHOLDER + 1):
        names = {"x": "a", "y": "a", "out": "o", constant: str(number)}
        text = ", ".join(_rule(source).template.format(**names) for source in sources)
        lambda_code = builtins.compile(f"lambda a, o: ({text},)", "<rule>", "eval").co_consts[0]
        consts.append(list(lambda_code.co_consts))
    first, second = consts
    renamed = [_PLACEHOLDER + 1 if type(c) is int and c == _PLACEHOLDER else c for c in first]
    return _PLACEHOLDER in first and renamed == second
