"""Reverse-mode passes over a graph of nodes: its topological order, `backward` and `grad`.

Everything here is iterative, so a chain of 10**6 nodes needs no more than the default
recursion limit. Walking a topological order backwards, a node is reached only after every
node that uses it, so its gradient is complete by the time it passes it on to its parents.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable

from autograd.mode import set_grad_enabled


class Node:
    """The part of a graph node the passes read; `autograd.Value` adds its operators.

    _op: the Op that made this node (None for a leaf). _x, _y: its inputs, each a Node or a
    constant float (_y is None for a unary op). _dx, _dy: d self / d input for the inputs that
    are nodes, None for constants; so the parents are the inputs with a local grad.
    _tag: label and scope together (a mode.Tag, shared by every node made in one scope).

    An n-ary node (`dot_product`, the one op with more than two inputs) has no _dx or _dy: its
    _x is the tuple of its parents and _y the tuple of their local grads. A binary or unary op
    always has at least one Value input, so "_dx and _dy both None" marks an n-ary node for
    free in the loops below, which test _dx and _dy anyway.
    """

    # NOTE: a leaf fills only data, grad and _op: its _x, _y, _dx, _dy (and _tag, outside any
    # scope until a label is set) stay empty, and nothing reads them unless _op is set. Python's
    # cyclic garbage collector skips empty slots, which makes its full collections a little
    # cheaper; and a binary node refers to no tuple or closure of its own, so a graph costs little
    # memory (a dot node, which stands for 2n-1 binary ones, holds two tuples).
    __slots__ = ("_dx", "_dy", "_op", "_tag", "_x", "_y", "data", "grad")


def parents_and_locals(node: Node) -> list[tuple[Node, float]]:
    """(parent, d node / d parent) for each parent of `node`, in the order of its arguments
    (a dot node's: w0, x0, w1, x1, ...)."""
    if node._op is None:
        return []
    if node._dx is None and node._dy is None:  # an n-ary node
        return list(zip(node._x, node._y, strict=True))
    return [(x, dx) for x, dx in ((node._x, node._dx), (node._y, node._dy)) if dx is not None]


def _parents(node: Node) -> Iterable[Node]:
    if node._op is None:
        return ()
    if node._dx is None and node._dy is None:  # an n-ary node
        return node._x
    return [x for x, dx in ((node._x, node._dx), (node._y, node._dy)) if dx is not None]


def topological_order(root: Node) -> list[Node]:
    """Every node below `root` once: parents before children, `root` last.

    Writes to no node, so any number of threads may walk one graph at once.
    """
    # Depth-first with an explicit stack of (node, whether its parents are placed): a node is
    # expanded when first popped, and placed when popped again, after all its parents.
    order = []
    expanded = set()
    stack = [(root, False)]
    while stack:
        node, parents_placed = stack.pop()
        if parents_placed:
            order.append(node)
        elif node not in expanded:
            expanded.add(node)
            stack.append((node, True))
            stack.extend((parent, False) for parent in _parents(node) if parent not in expanded)
    return order


# One backward pass at a time in the process: passes mark the nodes they walk (see _walk), so two
# passes over one shared graph must not interleave; under the GIL this costs no parallelism.
# NOTE: not a threading.Lock: an interrupt can land between any two lines, including right before
# a lock's release, and a lock left held would hang every later backward(). Instead the running
# pass's thread is recorded, and a thread that finds a pass recorded waits only while that thread
# is really inside backward(); an interrupted pass's record is simply taken over.
_running: dict[str, int] = {}


def _claim_backward() -> int:
    """Record this thread as the one running backward, once no other thread is in backward()."""
    me = threading.get_ident()
    while True:
        owner = _running.setdefault("thread", me)  # atomic under the GIL
        if owner == me or not _in_backward(owner):
            _running["thread"] = me
            return me
        time.sleep(1e-5)


def _in_backward(thread: int) -> bool:
    frame = sys._current_frames().get(thread)
    while frame is not None:
        if frame.f_code is backward.__code__:
            return True
        frame = frame.f_back
    return False


def backward(root: Node, gradient: float = 1.0) -> None:
    """Add d root / d leaf * gradient to each leaf's `.grad`; interior grads hold this pass only.

    Leaves accumulate across calls, as in PyTorch: a pass's contributions to a leaf are summed,
    then added to its `.grad`, so calling backward twice gives leaves exactly twice the gradient.
    Whatever interrupts a pass (KeyboardInterrupt included), every `.grad` is left a float.
    """
    me = _claim_backward()
    leaves = []  # (leaf, its grad before this pass)
    try:
        order = _walk(root, leaves)
        root.grad += gradient
        for node in reversed(order):
            g = node.grad
            dx = node._dx
            if dx is not None:
                node._x.grad += dx * g
            dy = node._dy
            if dy is not None:
                node._y.grad += dy * g
            elif dx is None:  # an n-ary node: its parents and local grads are tuples
                for parent, local in zip(node._x, node._y, strict=True):
                    parent.grad += local * g
        # An infinite or nan gradient times relu's 0 made a nan, which reaches a leaf: pass
        # again, letting relu select as PyTorch's does. Any nan makes this pass run twice.
        if any(leaf.grad != leaf.grad for leaf, _ in leaves):
            _pass_selecting(root, gradient, order, leaves)
    finally:
        for leaf, before in leaves:
            this_pass = leaf.grad
            # The leaf's grad is still `before` if the walk was interrupted right after
            # listing it.
            leaf.grad = before if this_pass is before else before + this_pass
        if _running.get("thread") == me:
            del _running["thread"]


def _walk(root: Node, leaves: list) -> list[Node]:
    """The interior nodes below `root`, parents before children, each left with `.grad` 0.0.

    Appends each leaf met, with its grad, to `leaves` and sets that grad to 0.0, so that the
    pass sums its contributions before they are added to the grad the leaf had.
    """
    # Depth-first with an explicit stack: a node is placed once none of its parents is waiting
    # to be placed. One whose parents are all leaves or already placed is placed at once; any
    # other is opened (pushed back under the parents it waits for) and placed when met again.
    # The walk goes straight on into the parent it would pop next (y, else x) without pushing
    # it: a chain of 10**6 nodes then costs one push and one pop per node, not two.
    # NOTE: a node's visit state is kept in its own .grad slot, not in a hash set (which made
    # backward twice as slow on big graphs). The two marks are new float objects equal to 0.0,
    # told apart by identity: every node this pass touches starts it at 0.0 anyway, so a mark
    # left by an interrupted walk is a correct float, and the next walk, with marks of its own,
    # cannot mistake it for one of its own. Only backward walks like this, one at a time.
    opened, placed = float("0"), float("0")
    order = []
    stack = []
    node = root if root._op is not None else None
    while node is not None:
        mark = node.grad
        if mark is not placed:
            if mark is not opened:
                # The parents still to place: nodes (a local grad is set) that are not leaves.
                if node._dx is not None:
                    x = node._x
                    if x.grad is placed:
                        x = None
                    elif x._op is None:
                        leaves.append((x, x.grad))
                        x.grad = placed
                        x = None
                elif node._dy is None:  # an n-ary node: its parents are the tuple _x
                    waiting = []
                    for parent in node._x:
                        if parent.grad is placed:
                            continue
                        if parent._op is None:
                            leaves.append((parent, parent.grad))
                            parent.grad = placed
                        else:
                            waiting.append(parent)
                    if waiting:
                        stack.append(node)
                        node.grad = opened
                        stack.extend(waiting)  # its last parent is walked first, as y before x
                        node = stack.pop()
                        continue
                    x = None
                else:
                    x = None
                y = node._y if node._dy is not None else None
                if y is not None and y.grad is placed:
                    y = None
                elif y is not None and y._op is None:
                    leaves.append((y, y.grad))
                    y.grad = placed
                    y = None
                if x is not None or y is not None:
                    stack.append(node)
                    node.grad = opened
                    if x is not None and y is not None:
                        stack.append(x)
                    node = x if y is None else y
                    continue
            order.append(node)
            node.grad = placed
        node = stack.pop() if stack else None
    return order


def _pass_selecting(root: Node, gradient: float, order: list[Node], leaves: list) -> None:
    """backward's pass again, from zero, where an op that selects (relu) passes no gradient at
    all where its derivative is 0, instead of 0 * an infinite or nan gradient = nan."""
    for node in order:
        node.grad = 0.0
    for leaf, _ in leaves:
        leaf.grad = 0.0
    root.grad += gradient
    for node in reversed(order):
        g = node.grad
        selects = node._op.selects
        for parent, local_grad in parents_and_locals(node):
            if not (selects and local_grad == 0):
                parent.grad += local_grad * g


def grad(output: Node, inputs, create_graph: bool = False) -> list:
    """d output / d input for each input, without touching any `.grad`.

    Returns floats; with `create_graph=True`, Values whose own graphs can be differentiated
    again (each local derivative is rebuilt from its rule on Values). An input that `output`
    does not depend on gets 0.0 (`Value(0.0)` with create_graph). Writes to no node.
    """
    if not isinstance(output, Node):
        raise TypeError(f"grad output must be a Value, got {type(output).__name__}")
    inputs = [inputs] if isinstance(inputs, Node) else list(inputs)
    for position, item in enumerate(inputs):
        if not isinstance(item, Node):
            raise TypeError(f"grad inputs must be Values, got {type(item).__name__} at {position}")
    if not create_graph:  # floats only: builds no node, so grad mode does not matter
        grads = _gradients(output, create_graph=False)
        return [grads.get(item, 0.0) for item in inputs]
    with set_grad_enabled(True):  # in this thread only
        grads = _gradients(output, create_graph=True)
    value = type(output)  # the node class that has the operators, Value, without importing it
    results = [grads.get(item, 0.0) for item in inputs]
    return [g if isinstance(g, Node) else value(g) for g in results]


def _gradients(output: Node, create_graph: bool) -> dict:
    """d output / d node for every node below `output`, as floats or (create_graph) Values."""
    grads = {output: 1.0}
    for node in reversed(topological_order(output)):
        op = node._op
        if op is None:
            continue
        g = grads.get(node)
        if g is None:  # only reached through a relu that passes nothing
            continue
        nary = node._dx is None and node._dy is None
        if nary:  # (create_graph: its local derivatives as Values, from the op)
            local_grads = op.value_local_grads(node) if create_graph else node._y
            pairs = zip(node._x, local_grads, strict=True)
        else:
            pairs = ((node._x, node._dx), (node._y, node._dy))
        for index, (parent, local_grad) in enumerate(pairs):
            if local_grad is None:
                continue
            if create_graph and not nary:  # the local derivative rebuilt from its rule, on Values
                local_grad = op.value_grads[index](node._x, node._y, node)
            if op.selects and isinstance(local_grad, float) and local_grad == 0:
                continue  # relu passes nothing here, even an infinite gradient (as PyTorch)
            contribution = local_grad * g
            previous = grads.get(parent)
            grads[parent] = contribution if previous is None else previous + contribution
    return grads
