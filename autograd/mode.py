"""What new Values record, per thread: grad mode (`no_grad`) and the open `scope`.

Both live in one context variable, so each thread (and each asyncio task) has its own, as grad
mode is per thread in PyTorch: one thread's `no_grad()` never changes what another records.
"""

from __future__ import annotations

from contextlib import ContextDecorator
from contextvars import ContextVar
from typing import NamedTuple


class Tag(NamedTuple):
    """A Value's name and scope, kept in one slot: most Values share one Tag per open scope."""

    label: str
    scope: str


NO_TAG = Tag("", "")


class Context:
    """Whether ops record their parents, and the Tag of the scope open where Values are made.

    Immutable once made; `inner(name)` is the context one scope deeper (cached: nn's forward
    passes open the same scopes over and over).
    """

    __slots__ = ("_inner", "recording", "tag")

    def __init__(self, recording: bool, tag: Tag):
        self.recording = recording
        self.tag = tag
        self._inner: dict[str, Context] = {}

    def inner(self, name: str) -> Context:
        """This context with scope `name` open inside its scope."""
        inner = self._inner.get(name)
        if inner is None:
            outer = self.tag.scope
            inner = Context(self.recording, Tag("", f"{outer}.{name}" if outer else name))
            if len(self._inner) < 10_000:  # a bound, for code that names scopes after data
                self._inner[name] = inner
        return inner


# NOTE: None stands for the default context (recording, outside any scope), so that an op in
# the common case asks one question of it. Reading a ContextVar costs an op about 8 ns, where a
# threading.local attribute would cost about 30 ns (measured on CPython 3.11).
_context: ContextVar[Context | None] = ContextVar("scalargrad_context", default=None)
current_context = _context.get
DEFAULT = Context(True, NO_TAG)


def is_grad_enabled() -> bool:
    """True when new ops in this thread record their parents (the default)."""
    context = current_context()
    return context is None or context.recording


def current_scope() -> str:
    """The names of the scopes open in this thread, joined by "."; "" outside any."""
    context = current_context()
    return "" if context is None else context.tag.scope


class _SetContext(ContextDecorator):
    """Context manager and decorator that changes this thread's context, and restores it."""

    def __init__(self):
        self.tokens = []  # a stack, so that one instance may be re-entered in one thread

    def changed(self, context: Context) -> Context:
        """The context inside the block, given the one outside it."""
        raise NotImplementedError

    def __enter__(self):
        self.tokens.append(_context.set(self.changed(current_context() or DEFAULT)))
        return self

    def __exit__(self, *exc_info):
        _context.reset(self.tokens.pop())
        return False

    def _recreate_cm(self):
        # A decorated function may run in several threads at once: each call gets its own copy
        # (and token stack) of this context manager.
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__, tokens=[])
        return copy


class set_grad_enabled(_SetContext):
    """Switch recording on or off in this thread, inside the `with` block or decorated function."""

    def __init__(self, mode: bool):
        super().__init__()
        self.mode = bool(mode)

    def changed(self, context: Context) -> Context:
        return Context(self.mode, context.tag)


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


class scope(_SetContext):
    """`with scope("layer1"):` Values made inside belong to it: `v.scope == "layer1"`.

    Scopes nest (`"layer1.neuron3"`) and, like grad mode, are per thread. Pictures group and
    collapse Values by scope. A name is a non-empty str without ".".
    """

    def __init__(self, name: str):
        super().__init__()
        if not isinstance(name, str):
            raise TypeError(f"scope name must be a str, got {type(name).__name__}")
        if not name or "." in name:
            raise ValueError(f"scope name must be non-empty and contain no '.', got {name!r}")
        self.name = name

    def changed(self, context: Context) -> Context:
        return context.inner(self.name)


def enter_scope(name: str):
    """Open scope `name` (checked by the caller) in this thread; returns the token to close it.

    For nn's forward passes, which open a scope per neuron and cannot afford a context manager
    object each time; `exit_scope(token)` in a `finally` closes it.
    """
    return _context.set((current_context() or DEFAULT).inner(name))


exit_scope = _context.reset
