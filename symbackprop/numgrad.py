"""`numerical_gradient`: the lecture's numerical gradient, (f(x + h) − f(x)) / h, made practical.

Takes a formula (text or a `CompiledFunction`) and a value for each of its inputs (numbers or
NumPy arrays); returns `{name: gradient}` computed by finite differences only — the forward pass
run with one input element nudged at a time, never the backward pass — so it is an independent
check of what `compile()` computes.  Scalars come back as floats, arrays as float64 arrays of the
input's shape.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from .errors import SymbackpropError
from .function import CompiledFunction
from .pipeline import compile as compile_text

CENTRAL = "central"
FORWARD = "forward"


def numerical_gradient(
    f_or_src: CompiledFunction | str,
    /,
    h: float = 1e-5,
    method: str = CENTRAL,
    *,
    at: Mapping[str, Any] | None = None,
    **inputs: Any,
) -> dict[str, Any]:
    """The gradient by finite differences, element by element, at the point `inputs`.

    For each input (every input of a text; the `wrt` inputs of a `CompiledFunction`) and each
    element of it, the forward pass is run with that element nudged by `h`:

    * `method="central"` (the default): (f(x + h) − f(x − h)) / 2h, whose error shrinks like h²,
      so h = 1e-5 gives about ten correct digits on smooth formulas;
    * `method="forward"`: (f(x + h) − f(x)) / h, the lecture's formula, one evaluation per
      element cheaper but with an error that shrinks only like h.

    h is absolute (the same nudge whatever the size of x).  As in `compile()`, an array-valued
    formula stands for the sum of its elements, and the gradient of a broadcast input is that of
    the sum over everything it was broadcast to.  Arrays are computed in float64 (a float32 array
    cannot represent x + 1e-5 exactly).  An input named `h`, `method` or `at` cannot be given as a
    keyword here: give the point as a mapping, `at={...}`, instead.

    >>> g = numerical_gradient("(x + y) * z", x=-2, y=5, z=-4)
    >>> {name: round(value, 6) for name, value in g.items()}
    {'x': -4.0, 'y': -4.0, 'z': 3.0}
    >>> numerical_gradient("x**2", h=0.0001, method="forward", x=3.0)  # 2x + h: not quite 6
    {'x': 6.0001000000...}
    """
    function = compile_text(f_or_src) if isinstance(f_or_src, str) else f_or_src
    if not isinstance(function, CompiledFunction):
        raise TypeError(
            f"numerical_gradient takes formula text or a CompiledFunction, not {f_or_src!r}"
        )
    if isinstance(h, bool) or not isinstance(h, numbers.Real) or not 0 < float(h) < float("inf"):
        raise SymbackpropError(f"h must be a positive number, got {h!r}")
    if method not in (CENTRAL, FORWARD):
        raise SymbackpropError(f"method must be {CENTRAL!r} or {FORWARD!r}, got {method!r}")
    if at is not None and not isinstance(at, Mapping):
        raise TypeError(f"at must map input names to values, as {{'x': 1.0}}, not {at!r}")
    # Every input in float64, not only the one nudged: the base value of the forward method,
    # and the other inputs of a float32 formula, would otherwise be computed in float32, whose
    # rounding (1e-7 relative) divided by h swamps the slope.
    point = {name: _in_float64(value) for name, value in {**(at or {}), **inputs}.items()}
    step = float(h)
    base = _total(function.value(**point))  # also checks that every input is given
    gradients: dict[str, Any] = {}
    for name in function.wrt:
        value = point[name]
        if isinstance(value, numbers.Real) and not isinstance(value, np.ndarray):
            gradients[name] = _slope(function, point, name, float(value), step, method, base)
            continue
        array = np.array(value, dtype=np.float64)  # a copy, nudged in place below
        slopes = np.empty_like(array)
        nudged = {**point, name: array}
        for index in np.ndindex(array.shape):
            original = array[index]
            array[index] = original + step
            above = _total(function.value(**nudged))
            if method == CENTRAL:
                array[index] = original - step
                below = _total(function.value(**nudged))
                slopes[index] = (above - below) / (2 * step)
            else:
                slopes[index] = (above - base) / step
            array[index] = original
        gradients[name] = slopes
    return gradients


def _slope(
    function: CompiledFunction,
    point: dict[str, Any],
    name: str,
    x: float,
    step: float,
    method: str,
    base: float,
) -> float:
    """The finite difference for one scalar input."""
    above = _total(function.value(**{**point, name: x + step}))
    if method == FORWARD:
        return (above - base) / step
    below = _total(function.value(**{**point, name: x - step}))
    return (above - below) / (2 * step)


def _in_float64(value: Any) -> Any:
    """A real input in float64: numbers (NumPy's scalars too) as Python floats, arrays of floats
    of any precision, integers or booleans as float64 arrays; anything else as it is, for the
    compiled function to refuse with its own message."""
    if isinstance(value, numbers.Real) and not isinstance(value, np.ndarray):
        return float(value)
    try:
        array = np.asarray(value)
    except Exception:  # ragged lists and the like: the compiled function refuses them
        return value
    return array.astype(np.float64) if array.dtype.kind in "fiub" else value


def _total(value: Any) -> float:
    """The formula's value as one number: an array output stands for the sum of its elements."""
    return float(np.sum(value))


__all__ = ["numerical_gradient"]
