"""scalargrad's engine: scalar `Value`s that record how they were computed, and reverse mode."""

from autograd.check import gradcheck
from autograd.compiler import compile
from autograd.draw import draw_dot, render_svg, to_dot
from autograd.engine import grad, topological_order
from autograd.mode import is_grad_enabled, no_grad, set_grad_enabled
from autograd.value import Value

__version__ = "0.1.0"  # the one place: pyproject.toml reads it, `scalargrad --version` prints it

__all__ = [
    "Value",
    "compile",
    "draw_dot",
    "grad",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "render_svg",
    "set_grad_enabled",
    "to_dot",
    "topological_order",
]
