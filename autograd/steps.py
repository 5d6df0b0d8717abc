"""The backward pass as a list of steps: one per (node, parent) edge, in the engine's order."""

from __future__ import annotations

from dataclasses import dataclass

from autograd.engine import topological_order
from autograd.value import Value


@dataclass(frozen=True, slots=True)
class Step:
    """One chain-rule step: `parent.grad += upstream * local` (read-only)."""

    node: Value  # the node passing its gradient on
    parent: Value  # the node receiving it
    upstream: float  # d output / d node
    local: float  # d node / d parent
    contribution: float  # upstream * local (0 where relu selects)
    accumulated: float  # d output / d parent summed so far, this step included


def contribution(node: Value, upstream: float, local: float) -> float:
    """upstream * local, except where relu selects (local 0): 0 even for an infinite upstream."""
    # NOTE: as in PyTorch, relu's derivative at x <= 0 passes 0 whatever comes from above, so an
    # inf or nan upstream gives 0 there instead of nan.
    if local == 0.0 and node.op == "relu":
        return 0.0
    return local * upstream


def interior_nodes(output: Value) -> list[Value]:
    """The nodes below `output` that pass a gradient on, in the order `backward()` visits them."""
    if not isinstance(output, Value):
        raise TypeError(f"output must be a Value, got {type(output).__name__}")
    return [node for node in reversed(topological_order(output)) if node.parents]


def backward_steps(output: Value) -> list[Step]:
    """Every step of `output.backward()`, in the order the engine applies them; touches no .grad."""
    grads = {output: 1.0}
    steps = []
    for node in interior_nodes(output):
        upstream = grads[node]
        for parent, local in zip(node.parents, node.local_grads, strict=True):
            passed = contribution(node, upstream, local)
            previous = grads.get(parent)
            grads[parent] = passed if previous is None else previous + passed
            steps.append(Step(node, parent, upstream, local, passed, grads[parent]))
    return steps
