"""scalargrad's engine: scalar `Value`s that record how they were computed, and reverse mode."""

from autograd.check import gradcheck
from autograd.engine import grad, topological_order
from autograd.mode import is_grad_enabled, no_grad, set_grad_enabled
from autograd.value import Value

__all__ = [
    "Value",
    "grad",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
    "topological_order",
]
