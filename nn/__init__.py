"""Neural networks on scalargrad's `autograd`: modules, losses, optimizers, data, training."""
