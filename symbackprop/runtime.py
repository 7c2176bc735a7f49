"""Numerically careful helpers that generated code calls where Python and NumPy have no builtin.

Each is the implementation of one gate in one numeric mode (floats through `math`, or NumPy
arrays).  `emit` copies the source of those a generated module calls into it, so the module
stands alone; constant folding calls the float ones.  Imports only `math` and `numpy`, which
is what makes copying them possible.
"""

from __future__ import annotations

import math
from collections.abc import Callable
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


def floor(t: float) -> float:
    """⌊t⌋ as a float, as `numpy.floor` gives it.

    `math.floor` returns an int, so it raises at ±inf and NaN (where ⌊t⌋ is t) and loses the
    sign of a zero result; ⌊t⌋ has t's sign, so copysign restores it (⌊−0.0⌋ is −0.0).
    """
    return math.copysign(math.floor(t), t) if math.isfinite(t) else t


def ceil(t: float) -> float:
    """⌈t⌉ as a float, as `numpy.ceil` gives it (⌈−0.5⌉ is −0.0); see `floor`."""
    return math.copysign(math.ceil(t), t) if math.isfinite(t) else t


def sec(t: float) -> float:
    """1/cos t; `math` has no secant."""
    return 1.0 / math.cos(t)


def csc(t: float) -> float:
    """1/sin t; at t = 0 the division raises, as `1/x` does."""
    return 1.0 / math.sin(t)


def cot(t: float) -> float:
    """1/tan t (two roundings, one fewer than cos t / sin t); at t = 0 the division raises."""
    return 1.0 / math.tan(t)


def xlogy(x: float, y: float) -> float:
    """x·log y, and 0 where x = 0 (unless y is NaN), as `scipy.special.xlogy`.

    The gradient of a^b by b is a^b·log a: at a = 0 it is 0 (0^b is 0 for every b > 0), where
    the product 0·log 0 would be a domain error or NaN.  JAX and PyTorch give 0 there too.
    """
    if x == 0.0 and y == y:
        return 0.0
    return x * math.log(y)


def unit(x: float, length: float) -> float:
    """x / length, and 0 where the length is 0: the gradient of hypot, 0 at the origin."""
    return x / length if length != 0.0 else 0.0


def sigmoid_array(t: Any, out: Any = None) -> Any:
    """Elementwise σ(t) = 1/(1+e^(−t)) in four in-place passes, into `out` if given.

    The formula is accurate everywhere in floating point, and where e^(−t) overflows (t < −709)
    it gives 1/(1+inf) = 0, which is σ(t) to within the smallest subnormal number: so the
    overflow is silenced rather than avoided, with no branch and no second exp as
    `np.where` of two stable branches would need.  NaN stays NaN.
    """
    with np.errstate(over="ignore"):
        if np.ndim(t) == 0 and out is None:
            return 1.0 / (1.0 + np.exp(np.negative(t)))
        result = np.negative(t, out=out)
        np.exp(result, out=result)
        np.add(result, 1.0, out=result)
        return np.reciprocal(result, out=result)


def softplus_array(t: Any) -> Any:
    """Elementwise log(1+e^t), stable: NumPy's logaddexp(0, t)."""
    return np.logaddexp(0.0, t)


def relu_array(t: Any) -> Any:
    """Elementwise max(t, 0)."""
    return np.maximum(t, 0.0)


def sec_array(t: Any) -> Any:
    """Elementwise 1/cos t: NumPy has no secant."""
    return 1.0 / np.cos(t)


def csc_array(t: Any) -> Any:
    """Elementwise 1/sin t: inf at t = 0, with NumPy's divide-by-zero warning."""
    return 1.0 / np.sin(t)


def cot_array(t: Any) -> Any:
    """Elementwise 1/tan t: inf at t = 0, with NumPy's divide-by-zero warning."""
    return 1.0 / np.tan(t)


def erf_array(t: Any) -> Any:
    """Elementwise erf t.  NumPy has no erf (SciPy's is not a dependency), so `math.erf` runs on
    each element: correct to the ulp, but a Python call per element, far slower than a ufunc."""
    return _per_element(math.erf, t)


def erfc_array(t: Any) -> Any:
    """Elementwise erfc t = 1 − erf t, accurate where erf t is near 1; `math.erfc` per element."""
    return _per_element(math.erfc, t)


def _per_element(function: Callable[[float], float], t: Any) -> Any:
    """`function` mapped over the elements of `t`, with a ufunc's result: the input's floating
    dtype (float64 for anything else), and a NumPy scalar for a scalar.  (Mapping over
    `tolist()` is faster than `numpy.vectorize` or `numpy.frompyfunc`.)"""
    array = np.asarray(t)
    dtype = array.dtype if array.dtype.kind == "f" else np.dtype(np.float64)
    values = np.fromiter(map(function, array.ravel().tolist()), np.float64, count=array.size)
    result = values.reshape(array.shape).astype(dtype, copy=False)
    return result if result.ndim else result[()]


def fill(value: Any, shape: tuple[int, ...]) -> Any:
    """A new array of `shape` holding `value` (broadcast over it): what `value * ones(shape)`
    gives, without the array of ones or the product."""
    return np.full(shape, value)


def sum_to_shape(gradient: Any, shape: tuple[int, ...]) -> Any:
    """A gradient reduced (or spread) to `shape`: the gradient of an input NumPy broadcast.

    An input that broadcasting stretched (a scalar weight times a vector of samples) receives
    the sum over the stretched axes — the gradient of the sum of the output's elements.  A
    gradient smaller than `shape` (a constant) is spread over it.  Always a fresh array, so no
    two gradients share memory with each other or with the inputs.
    """
    full_shape = np.broadcast_shapes(np.shape(gradient), shape)
    full = np.broadcast_to(gradient, full_shape)
    leading = len(full_shape) - len(shape)
    stretched = tuple(
        leading + axis
        for axis, size in enumerate(shape)
        if size == 1 and full_shape[leading + axis] != 1
    )
    axes = tuple(range(leading)) + stretched
    if axes:
        return np.sum(full, axis=axes).reshape(shape)
    return np.array(full)


def expand_to(value: Any, like: Any, axis: int | None = None) -> Any:
    """A reduction's gradient spread back over the elements it combined (a read-only view)."""
    if axis is not None:
        value = np.expand_dims(value, axis)
    return np.broadcast_to(value, np.shape(like))


def logsumexp(x: Any, axis: int | None = None) -> Any:
    """log Σ exp(x) over `axis` (or all elements), shifted by the maximum so exp cannot overflow.

    The maximum starts from −inf (`initial=`), so an empty sum is log 0 = −inf, as in SciPy and
    JAX, instead of NumPy's error for the maximum of nothing.  A whole-array result is a NumPy
    scalar, as NumPy's own reductions return.
    """
    x = np.asarray(x)
    shift = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    shift = np.where(np.isfinite(shift), shift, 0.0)
    with np.errstate(divide="ignore" if x.size == 0 else None):
        total = np.log(np.sum(np.exp(x - shift), axis=axis, keepdims=True)) + shift
    result = total.reshape(()) if axis is None else np.squeeze(total, axis=axis)
    return result[()] if result.ndim == 0 else result


def softmax(x: Any, axis: int | None = None) -> Any:
    """exp(x) / Σ exp(x) over `axis` (or all elements), shifted by the maximum for stability.

    The maximum starts from −inf (`initial=`), so an empty array gives an empty softmax, as in
    JAX, instead of NumPy's error for the maximum of nothing.
    """
    x = np.asarray(x)
    exps = np.exp(x - np.max(x, axis=axis, keepdims=True, initial=-np.inf))
    return exps / np.sum(exps, axis=axis, keepdims=True)


def norm(x: Any) -> Any:
    """The L2 norm of all elements."""
    return np.sqrt(np.sum(np.square(x)))


def xlogy_array(x: Any, y: Any) -> Any:
    """Elementwise x·log y, and 0 where x = 0 (unless y is NaN); see `xlogy`.  The logarithm is
    taken only where it is needed, so log 0 there gives no warning."""
    x = np.asarray(x, dtype=np.result_type(x, np.float64))
    y = np.asarray(y)
    shape = np.broadcast_shapes(x.shape, y.shape)
    needed = np.broadcast_to((x != 0) | np.isnan(y), shape)
    logs = np.log(np.broadcast_to(y, shape), out=np.zeros(shape, x.dtype), where=needed)
    return x * logs


def unit_array(x: Any, length: Any) -> Any:
    """x / length, and 0 where the length is 0 (the subgradient of norm and hypot there), without
    warning; x and length broadcast (hypot(x, y)'s length may have more elements than x)."""
    x = np.asarray(x, dtype=np.result_type(x, np.float64))
    shape = np.broadcast_shapes(x.shape, np.shape(length))
    return np.divide(x, length, out=np.zeros(shape, x.dtype), where=np.asarray(length) != 0)


def vdot(a: Any, b: Any) -> Any:
    """Σ a·b over all elements (the dot product of vectors, Frobenius for matrices).

    Operands of one shape go to `numpy.vdot`, one BLAS pass with no temporary; operands that
    broadcast against each other are multiplied out first.
    """
    if np.shape(a) == np.shape(b):
        return np.vdot(a, b)
    return np.sum(np.multiply(a, b))


def class_indices(labels: Any, classes: int) -> Any:
    """`pick`'s labels as integer indices, refusing labels that are not whole numbers.

    Labels reach generated code as floats (integer arrays are converted to float64 with every
    input), so a cast alone would cut 1.7 to 1 and make NaN a huge negative index; NumPy and JAX
    refuse float indices outright.  Whole floats are exact up to 2**53, far beyond any number of
    classes.  Negative labels count from the last class, as NumPy's indexing does; one beyond
    the classes is an error, as in NumPy (JAX would clamp it silently).
    """
    values = np.asarray(labels)
    if values.dtype.kind == "f":
        whole = np.isfinite(values) & (values == np.round(values))
        if not whole.all():
            bad = float(values[~whole].flat[0])
            raise ValueError(f"pick's labels must be whole numbers (class indices), got {bad:g}")
    elif values.dtype.kind not in "iub":
        raise ValueError(f"pick's labels must be integers (class indices), not {values.dtype}")
    outside = (values < -classes) | (values >= classes)
    if outside.any():
        bad = float(values[outside].flat[0])
        raise IndexError(f"pick's label {bad:.17g} is out of bounds for {classes} classes")
    return values.astype(np.intp)


def pick(scores: Any, labels: Any) -> Any:
    """scores[i, labels[i]] for each row i: each example's score for its correct class."""
    shape = np.shape(scores)
    return scores[np.arange(shape[0]), class_indices(labels, shape[1])]


def pick_gradient(upstream: Any, labels: Any, like: Any) -> Any:
    """Zeros shaped like the scores, with each row's upstream gradient at its picked entry."""
    shape = np.shape(like)
    gradient = np.zeros(shape, dtype=np.result_type(upstream, like, np.float64))
    gradient[np.arange(shape[0]), class_indices(labels, shape[1])] = upstream
    return gradient


def gradient_like(gradient: Any, like: Any, copy: bool = False) -> Any:
    """A gradient as returned to the user: in `like`'s floating dtype (float64 for a Python
    number) and shape, a copy when `copy` says the array may be shared."""
    dtype = like.dtype if isinstance(like, np.ndarray) and like.dtype.kind == "f" else np.float64
    result = np.array(gradient, dtype=dtype, copy=True) if copy else np.asarray(gradient, dtype)
    if result.shape != np.shape(like):
        result = np.array(np.broadcast_to(result, np.shape(like)))
    return result[()] if result.ndim == 0 else result
