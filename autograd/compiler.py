"""`compile(root)`: the graph below `root` traced once into straight-line Python over floats.

Each op's forward and derivative rules from the rule table are pasted in as expressions over
locals, so a call builds no Values and costs less than hand-written loops. Limits: generating and
compiling take 15-30 us per node (a 10**6-node chain: ~15 s, ~1 GB at the peak, ~30 MB of
source; the benchmark's W6 MLP, 566,000 nodes: ~16 s, 35 MB). The first 4-5 calls run about 30%
slower: CPython 3.11 specializes a function's bytecode only after ~8 entries, and each chunk is
entered twice per call.
"""

from __future__ import annotations

import builtins
import functools
import gc
import io
import keyword
import math
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

from autograd.engine import topological_order
from autograd.ops import FLOAT_FUNCTIONS, Op
from autograd.value import Value, domain_error

# Interior nodes per generated function. CPython compiles one function of 10**5 lines about twice
# as slowly per line as many small ones; values that cross a chunk boundary go through a list.
CHUNK_NODES = 4000

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

    `leaves` are the leaf Values it reads, in topological order; `source` is the generated code.
    A domain error raises what the eager engine raises for the first failing op (in topological
    order), and changes no gradient.

    Beyond SPEC: nodes passed as `keep` to `compile` stay materialised; `kept_values()` reads
    their values as the last `cg()` or `cg.forward()` computed them (e.g. a model's outputs,
    which the loss graph otherwise inlines).
    """

    def __init__(self, root: Value, keep: Sequence[Value] = ()):
        order = topological_order(root)
        self.leaves: tuple[Value, ...] = tuple(node for node in order if node._op is None)
        in_graph = set(order) if keep else ()
        for node in keep:
            if node not in in_graph:
                raise ValueError(f"compile: keep holds {node!r}, which root does not depend on")
        # The graph's Values are all alive, so each automatic garbage collection would walk them
        # all, for nothing: generation creates no cycles. Switching it off saves about a third.
        collecting = gc.isenabled()
        gc.disable()
        try:
            generator = _Generator(root, order, self.leaves, keep)
            self._sources = generator.chunks()
        finally:
            if collecting:
                gc.enable()
        self._order = order  # the traced graph, to find the failing op of a domain error
        self._kept_slots = [generator.value_slot[node] for node in keep]
        self._store: list | None = None  # the last call's values, for kept_values
        self._blank = [0.0] * (generator.store_size - len(self.leaves))  # all but leaf data
        # One chunk at a time: compiling them all at once would hold every chunk's syntax tree.
        namespace = dict(FLOAT_FUNCTIONS)
        for number, source in enumerate(self._sources):
            code = builtins.compile(source, f"<compiled graph, chunk {number}>", "exec")
            exec(code, namespace)  # noqa: S102 - the source is generated from the rule table
        self._chunks = tuple(namespace[f"chunk_{number}"] for number in range(len(self._sources)))

    @property
    def source(self) -> str:
        """The generated Python: one generator function per chunk of the graph."""
        return "\n".join(self._sources)

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
        for leaf, gradient in zip(leaves, store[len(leaves) : 2 * len(leaves)], strict=True):
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
            if op is None:
                continue
            x = values[node._x] if node._dx is not None else node._x
            y = values[node._y] if node._dy is not None else node._y
            try:
                values[node] = op.forward(x, y)
            except (ArithmeticError, ValueError) as op_error:
                raise domain_error(op, op_error, x, y) from None
        raise error  # not a forward error: the fast path met something the checked one did not

    def __repr__(self) -> str:
        return f"CompiledGraph({len(self._order)} nodes, {len(self.leaves)} leaves)"


def compile(root: Value, *, keep: Sequence[Value] = ()) -> CompiledGraph:
    """Trace the graph below `root` once into straight-line Python; see `CompiledGraph`.

    Like `torch.jit.trace`, only the ops that were built are recorded: Python control flow that
    chose them is frozen, while data-dependent derivatives (relu, abs, ...) are decided per call.
    Interior nodes' `.grad` are left untouched; leaves accumulate as with `root.backward()`.
    `keep` (beyond SPEC): nodes of the graph whose values each call keeps, for `kept_values()`.
    """
    if not isinstance(root, Value):
        raise TypeError(f"compile needs a Value, got {type(root).__name__}")
    keep = list(keep)
    for node in keep:
        if not isinstance(node, Value):
            raise TypeError(f"compile: keep must hold Values, got {type(node).__name__}")
    return CompiledGraph(root, keep)


# --- code generation -------------------------------------------------------------------------
# The generated code is one generator function per chunk of interior nodes (in topological
# order). Each takes `store`, a list laid out as
#   [leaf data (L)] [leaf grads (L)] [values and grads passed between chunks]
# A chunk loads the values it needs from earlier chunks, computes its nodes into locals, saves
# those later chunks read, and yields (the last chunk yields the output). Resumed in reverse
# order, it runs its backward: it loads the grads later chunks added to its nodes and to earlier
# ones, adds its own contributions in the eager engine's order, and saves them back (an input
# from an earlier chunk that gets one contribution here has it added to its slot directly).
#
# Two rewrites keep the code close to what one would write by hand, without changing a single
# float: a node used once, whose value no derivative rule reads (the products in a neuron's
# sum), is inlined into its user's expression instead of getting a variable; and a node whose
# only gradient is its user's, passed through unchanged (a term of a sum), shares its variable.


class _Generator:
    """Writes the generated source for one traced graph, chunk by chunk."""

    def __init__(
        self, root: Value, order: list[Value], leaves: tuple[Value, ...], keep: Sequence[Value]
    ):
        self.root = root
        self.kept = set(keep)
        self.leaves = leaves
        self.name = name = {node: f"v{position}" for position, node in enumerate(order)}
        self.interior = [node for node in order if node._op is not None]
        self.chunk_of = {}
        self.parents = {}  # node -> its Value inputs, each as (input, 0 for x or 1 for y)
        self.operands = {}  # node -> [x, y] as source text: a local's name or a literal
        self.users = users = {node: [] for node in order}  # node -> each (user, position)
        # One pass over ~10**6 nodes: the loop body is spelled out, with no helper calls.
        for position, node in enumerate(self.interior):
            self.chunk_of[node] = position // CHUNK_NODES
            x, y = node._x, node._y
            parents = []
            if node._dx is not None:
                parents.append((x, 0))
                users[x].append((node, 0))
                x = name[x]
            else:
                x = _literal(x)
            if node._dy is not None:
                parents.append((y, 1))
                users[y].append((node, 1))
                y = name[y]
            else:
                y = "None" if y is None else _literal(y)
            self.parents[node] = parents
            self.operands[node] = [x, y]
        self.value_slot = {leaf: position for position, leaf in enumerate(leaves)}
        self.grad_slot = {leaf: len(leaves) + position for position, leaf in enumerate(leaves)}
        self.store_size = 2 * len(leaves)
        for node in self.interior:
            chunk = self.chunk_of[node]
            if any(self.chunk_of[user] != chunk for user, _ in self.users[node]):
                self.value_slot[node] = self.store_size
                self.grad_slot[node] = self.store_size + 1
                self.store_size += 2
        for node in keep:  # leaves and nodes later chunks read have a value slot already
            if node not in self.value_slot:
                self.value_slot[node] = self.store_size
                self.store_size += 1

    def chunks(self) -> list[str]:
        """The source of each chunk's generator function, `chunk_0`, `chunk_1`, ..."""
        if not self.interior:  # the root is a leaf: the output is its data, its gradient 1
            return ["def chunk_0(store):\n    yield store[0]\n    store[1] = 1.0\n"]
        return [
            self.chunk(first // CHUNK_NODES, self.interior[first : first + CHUNK_NODES])
            for first in range(0, len(self.interior), CHUNK_NODES)
        ]

    def chunk(self, number: int, nodes: list[Value]) -> str:
        """One generator: the forward of `nodes`, a yield, then their backward."""
        name, root = self.name, self.root
        free_names = {"inf", "nan"}  # constants may need them
        external = {}  # inputs computed outside this chunk (leaves, earlier chunks), in use order
        inlined = {}  # node -> (its expression, how deeply inlined expressions nest in it)
        forward = []
        for node in nodes:
            operands = self.operands[node]
            nesting = 0
            for parent, position in self.parents[node]:
                if parent in inlined:
                    expression, depth = inlined[parent]
                    operands = operands.copy()
                    operands[position] = f"({expression})"
                    nesting = max(nesting, depth)
                elif self.chunk_of.get(parent) != number:
                    external[parent] = None
            rules = _op_rules(node._op)
            free_names |= rules.free_names
            expression = rules.forward.format(x=operands[0], y=operands[1])
            if nesting < _MAX_INLINE_DEPTH and self.inlinable(node, number):
                inlined[node] = (expression, nesting + 1)
            else:
                forward.append(f"    {name[node]} = {expression}")

        shared = [node for node in nodes if node in self.grad_slot]
        # An input from outside the chunk that gets one gradient term here (a weight, once per
        # sample) adds it to its slot in place, rather than being loaded, updated and saved.
        terms = dict.fromkeys(external, 0)
        for node in nodes:
            for parent, _ in self.parents[node]:
                if parent in terms:
                    terms[parent] += 1
        in_place = {node for node, count in terms.items() if count == 1}
        accumulated = [node for node in external if node not in in_place]
        grad_name = {node: "g" + name[node][1:] for node in (*shared, *accumulated, root)}
        backward = []
        for node in reversed(nodes):
            gradient = grad_name[node]
            rules = _op_rules(node._op)
            operands = self.operands[node]
            for parent, position in self.parents[node]:
                constant = rules.constants[position]
                negative = constant == -1.0
                if constant in (1.0, -1.0):  # add, sub, neg: no multiplication by +-1
                    term = gradient
                else:
                    local_grad = rules.grads[position].format(
                        x=operands[0], y=operands[1], out=name[node]
                    )
                    if not local_grad.isidentifier():
                        local_grad = f"({local_grad})"
                    term = f"{local_grad} * {gradient}"
                sign = "-" if negative else "+"
                if parent in in_place:
                    backward.append(f"    store[{self.grad_slot[parent]}] {sign}= {term}")
                elif parent in grad_name:
                    backward.append(f"    {grad_name[parent]} {sign}= {term}")
                elif term == gradient and not negative and len(self.users[parent]) == 1:
                    grad_name[parent] = gradient  # the user's gradient, unchanged: share it
                else:
                    grad_name[parent] = "g" + name[parent][1:]
                    backward.append(f"    {grad_name[parent]} = {'-' if negative else ''}{term}")

        # Default arguments make the rule functions locals: a global lookup per use is slower.
        defaults = "".join(f", {function}={function}" for function in sorted(free_names))
        lines = [f"def chunk_{number}(store{defaults}):"]
        lines += [f"    {name[node]} = store[{self.value_slot[node]}]" for node in external]
        lines += forward
        saved = [node for node in nodes if node in self.value_slot]  # shared and kept nodes
        lines += [f"    store[{self.value_slot[node]}] = {name[node]}" for node in saved]
        if self.chunk_of[root] == number:
            lines += [f"    yield {name[root]}", f"    {grad_name[root]} = 1.0"]
        else:
            lines.append("    yield")
        lines += [f"    {grad_name[node]} = store[{self.grad_slot[node]}]" for node in shared]
        lines += [f"    {grad_name[node]} = store[{self.grad_slot[node]}]" for node in accumulated]
        lines += backward
        lines += [f"    store[{self.grad_slot[node]}] = {grad_name[node]}" for node in accumulated]
        return "\n".join(lines) + "\n"

    def inlinable(self, node: Value, chunk: int) -> bool:
        """True if `node` can be an expression inside its only user instead of a variable."""
        users = self.users[node]
        if len(users) != 1 or node in self.kept or _op_rules(node._op).grads_read_out:
            return False
        user, position = users[0]
        if self.chunk_of[user] != chunk:
            return False
        rules = _op_rules(user._op)
        # The forward must evaluate it exactly once, and no derivative the user emits read it.
        return rules.forward_once[position] and not any(
            rules.grads_read[rule][position] for _, rule in self.parents[user]
        )


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
    )
