"""scalargrad's engine: scalar `Value`s that record how they were computed, and reverse mode."""

from autograd.check import gradcheck
from autograd.compiler import compile
from autograd.draw import draw_dot, render_svg, to_dot
from autograd.engine import grad, topological_order
from autograd.explain import explain
from autograd.mode import is_grad_enabled, no_grad, scope, set_grad_enabled
from autograd.player import step_through
from autograd.steps import backward_steps
from autograd.value import Value, dot_product

__version__ = "0.1.0"  # the one place: pyproject.toml reads it, `scalargrad --version` prints it

__all__ = [
    "Value",
    "backward_steps",
    "compile",
    "dot_product",
    "draw_dot",
    "explain",
    "grad",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "render_svg",
    "scope",
    "set_grad_enabled",
    "step_through",
    "to_dot",
    "topological_order",
]
