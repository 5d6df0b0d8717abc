"""Neural networks on scalargrad's `autograd`: modules, losses, optimizers, data, training."""

# First: if another package named `autograd` is found before ours, say so in one line.
import nn.shadowing  # noqa: F401

# isort: split
from autograd import __version__ as __version__
from nn.io import load, save
from nn.layers import MLP, Layer, Neuron
from nn.losses import (
    binary_cross_entropy,
    cross_entropy,
    hinge_loss,
    log_softmax,
    mse_loss,
    softmax,
)
from nn.module import Module
from nn.train import fit

__all__ = [
    "MLP",
    "Layer",
    "Module",
    "Neuron",
    "binary_cross_entropy",
    "cross_entropy",
    "fit",
    "hinge_loss",
    "load",
    "log_softmax",
    "mse_loss",
    "save",
    "softmax",
]
