"""Whether ops record the graph: `no_grad()` switches recording off, `is_grad_enabled()` tells."""

from __future__ import annotations

from contextlib import ContextDecorator

# Read by every op (the Value methods generated in value.py). One flag for the whole process,
# not one per thread.
enabled = True


def is_grad_enabled() -> bool:
    """True when new ops record their parents (the default)."""
    return enabled


class set_grad_enabled(ContextDecorator):
    """Context manager and decorator that sets recording on or off, and restores it on exit."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self.previous: list[bool] = []  # a stack, so one instance may be re-entered

    def __enter__(self):
        global enabled
        self.previous.append(enabled)
        enabled = self.mode
        return self

    def __exit__(self, *exc_info):
        global enabled
        enabled = self.previous.pop()
        return False


class no_grad(set_grad_enabled):
    """Inside it (or a function it decorates) ops compute data but record no parents.

    Use it as `with no_grad():`, `@no_grad()` or, as in PyTorch, bare `@no_grad`.
    """

    def __new__(cls, function=None):
        instance = super().__new__(cls)
        if function is None:
            return instance
        instance.__init__()
        return instance(function)  # bare @no_grad: decorate the function right away

    def __init__(self, function=None):
        super().__init__(False)
