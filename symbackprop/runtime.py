"""Numerically careful helpers that generated code calls where Python and NumPy have no builtin.

Each is the implementation of one gate in one numeric mode (floats through `math`, or NumPy
arrays).  Generated modules import them by name; constant folding calls the float ones.  Imports
only `math` and `numpy`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def sigmoid(t: float) -> float:
    """σ(t) = 1/(1+e^(−t)) without overflow: for t < 0, e^t/(1+e^t), whose exp cannot overflow."""
    if t >= 0.0:
        return 1.0 / (1.0 + math.exp(-t))
    exp_t = math.exp(t)
    return exp_t / (1.0 + exp_t)


def softplus(t: float) -> float:
    """log(1+e^t) = max(t, 0) + log1p(e^(−|t|)), exact for large |t| where e^t would overflow."""
    return max(t, 0.0) + math.log1p(math.exp(-abs(t)))


def logaddexp(a: float, b: float) -> float:
    """log(e^a + e^b) = max(a, b) + log1p(e^(−|a − b|)), with no overflow for large a or b."""
    if a == b:
        return a + math.log(2.0)  # also right for a = b = ±inf, where a − b is NaN
    larger = a if a > b else b
    return larger + math.log1p(math.exp(-abs(a - b)))


def relu(t: float) -> float:
    """max(t, 0); NaN stays NaN, as with NumPy."""
    return 0.0 if t <= 0.0 else t


def maximum(a: float, b: float) -> float:
    """The larger of a and b, the first on a tie; NaN if either is NaN, as `numpy.maximum`."""
    return a if a >= b or a != a else b


def minimum(a: float, b: float) -> float:
    """The smaller of a and b, the first on a tie; NaN if either is NaN, as `numpy.minimum`."""
    return a if a <= b or a != a else b


def sign(t: float) -> float:
    """−1, 0 or 1: the derivative of |t| (0 at t = 0, the subgradient we choose); NaN for NaN."""
    if t > 0.0:
        return 1.0
    if t < 0.0:
        return -1.0
    return t if t != t else 0.0


def sigmoid_array(t: Any) -> Any:
    """Elementwise σ(t) for arrays, stable at both ends: e^(−|t|) never overflows."""
    exp_minus_abs = np.exp(-np.abs(t))
    return np.where(t >= 0, 1.0 / (1.0 + exp_minus_abs), exp_minus_abs / (1.0 + exp_minus_abs))


def softplus_array(t: Any) -> Any:
    """Elementwise log(1+e^t), stable: NumPy's logaddexp(0, t)."""
    return np.logaddexp(0.0, t)


def relu_array(t: Any) -> Any:
    """Elementwise max(t, 0)."""
    return np.maximum(t, 0.0)


def sum_to_shape(gradient: Any, like: Any, output_shape: tuple[int, ...]) -> Any:
    """The gradient for input `like`, from the adjoint computed for its broadcast copies.

    Generated array code seeds the backward pass with a scalar 1.0, so an adjoint may be smaller
    than the output it stands for; it is first broadcast to the output's shape.  An input that
    NumPy broadcast (a scalar weight times a vector of samples) then gets the sum over the
    broadcast axes — the gradient of the sum of the output's elements.  The result has the
    input's shape and floating dtype, and is always fresh (a NumPy scalar for shape ()), so no
    two gradients share memory with each other or with the inputs.
    """
    shape = np.shape(like)
    dtype = like.dtype if isinstance(like, np.ndarray) else np.float64
    if np.ndim(gradient) == 0 and gradient == 0:
        # A zero adjoint: the output does not depend on this input, whatever the shapes.
        summed = np.zeros(shape, dtype)
    else:
        full_shape = np.broadcast_shapes(np.shape(gradient), output_shape, shape)
        full = np.broadcast_to(gradient, full_shape)
        leading = len(full_shape) - len(shape)
        stretched = tuple(
            leading + axis
            for axis, size in enumerate(shape)
            if size == 1 and full_shape[leading + axis] != 1
        )
        axes = tuple(range(leading)) + stretched
        summed = np.sum(full, axis=axes).reshape(shape) if axes else np.array(full)
        summed = summed.astype(dtype, copy=False)
    return summed[()] if summed.ndim == 0 else summed
