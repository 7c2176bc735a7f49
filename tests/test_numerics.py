"""Numerical edge cases in both modes, as the "Edge cases" table of docs/numerics.md lists them.

For each case this pins down exactly what a compiled function does:

* float mode (Python floats, `math`): the value and gradients it returns, or the
  `EvaluationError` it raises, whose message names the failing sub-expression and says whether
  the failure was in the gradient; float mode never warns;
* array mode (NumPy arrays): the value and gradient arrays and the set of `RuntimeWarning`
  messages, and that both are what NumPy itself gives for the same computation, written here
  directly with NumPy ufuncs (never taken from symbackprop's generated code).

Expected numbers are the true values and limits, rounded to floats (e⁻¹⁰⁰⁰ rounds to 0.0).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import symbackprop as sb
from symbackprop import EvaluationError

inf = math.inf
nan = math.nan

FLOAT_HINT = " with float inputs (NumPy arrays give inf/nan with a warning instead)"

# Array-mode warnings, as NumPy words them.
OVERFLOW_EXP = "overflow encountered in exp"
DIVIDE_LOG = "divide by zero encountered in log"
DIVIDE_DIVIDE = "divide by zero encountered in divide"
DIVIDE_POWER = "divide by zero encountered in power"
INVALID_LOG = "invalid value encountered in log"
INVALID_SQRT = "invalid value encountered in sqrt"
INVALID_POWER = "invalid value encountered in power"
INVALID_MULTIPLY = "invalid value encountered in multiply"
INVALID_DIVIDE = "invalid value encountered in divide"
INVALID_SUBTRACT = "invalid value encountered in subtract"
INVALID_LOGADDEXP = "invalid value encountered in logaddexp"
INVALID_ARCCOS = "invalid value encountered in arccos"
DIVIDE_ARCTANH = "divide by zero encountered in arctanh"


def math_error(function: Callable[..., float], *arguments: float) -> str:
    """The message of the ValueError `math` raises for these arguments ("math domain error")."""
    with pytest.raises(ValueError) as info:
        function(*arguments)
    return str(info.value)


@dataclass(frozen=True)
class Fails:
    """Float mode raises: `reason` while computing (the gradient of) the text `snippet`."""

    reason: str
    snippet: str
    in_gradient: bool

    def message(self) -> str:
        where = "the gradient of " if self.in_gradient else ""
        return f"{self.reason} while computing {where}{self.snippet!r}{FLOAT_HINT}"


Grads = dict[str, float]
Reference = Callable[..., tuple[Any, dict[str, Any]]]


@dataclass(frozen=True)
class Case:
    """One edge case: a formula at one point, and what each mode does there.

    `float_mode` is the (value, gradients) float mode returns, or how it fails.  `array_mode` is
    (value, gradients, warning messages) for one-element arrays.  `numpy` computes the same value
    and gradients with NumPy ufuncs, for the cases where there is a NumPy computation to follow.
    """

    id: str
    text: str
    inputs: tuple[float, ...]
    float_mode: tuple[float, Grads] | Fails
    array_mode: tuple[float, Grads, set[str]]
    numpy: Reference | None
    options: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# What NumPy computes, written with its ufuncs.


def np_exp(x: Any) -> tuple[Any, dict[str, Any]]:
    return np.exp(x), {"x": np.exp(x)}  # d(e^x)/dx = e^x


def np_log(x: Any) -> tuple[Any, dict[str, Any]]:
    return np.log(x), {"x": 1.0 / x}


def np_sqrt(x: Any) -> tuple[Any, dict[str, Any]]:
    return np.sqrt(x), {"x": 0.5 / np.sqrt(x)}


def np_power_half(x: Any) -> tuple[Any, dict[str, Any]]:
    # `array ** 0.5` is how NumPy spells it (its operator computes it with sqrt).
    return x**0.5, {"x": 0.5 * x**-0.5}


def np_multiply(x: Any, y: Any) -> tuple[Any, dict[str, Any]]:
    return x * y, {"x": y, "y": x}


def np_reciprocal(x: Any) -> tuple[Any, dict[str, Any]]:
    return 1.0 / x, {"x": -1.0 / x**2}


def np_divide(x: Any, y: Any) -> tuple[Any, dict[str, Any]]:
    return x / y, {"x": 1.0 / y, "y": -x / y**2}


def np_tanh(x: Any) -> tuple[Any, dict[str, Any]]:
    return np.tanh(x), {"x": 1.0 - np.tanh(x) ** 2}


def np_sigmoid_value(x: Any) -> Any:
    """σ(x) = e^(−log(1 + e^(−x))), with NumPy's stable logaddexp (NumPy has no sigmoid)."""
    return np.exp(-np.logaddexp(0.0, -x))


def np_sigmoid(x: Any) -> tuple[Any, dict[str, Any]]:
    # σ'(x) = σ(x)·σ(−x)
    return np_sigmoid_value(x), {"x": np_sigmoid_value(x) * np_sigmoid_value(-x)}


def np_naive_sigmoid(x: Any) -> tuple[Any, dict[str, Any]]:
    """1/(1 + e^(−x)) as written, and its derivative by the chain rule: e^(−x) · s/(1 + e^(−x))."""
    exp_minus_x = np.exp(-x)
    s = 1.0 / (1.0 + exp_minus_x)
    return s, {"x": exp_minus_x * (s / (1.0 + exp_minus_x))}


def np_softplus(x: Any) -> tuple[Any, dict[str, Any]]:
    return np.logaddexp(0.0, x), {"x": np_sigmoid_value(x)}


def np_sigmoid_by_tanh(d: Any) -> Any:
    """σ(d) = (1 + tanh(d/2))/2: no overflow for any d, and exact at d = 0, ±inf and NaN.

    Not `np_sigmoid_value`: NumPy's logaddexp warns about a NaN input ("invalid value
    encountered in logaddexp"), and the difference d is NaN at (±inf, ±inf), where only the
    subtraction should warn.  (It loses relative accuracy for d below about −37, where σ(d)
    is tiny; the cases here do not go there.)
    """
    return (1.0 + np.tanh(d / 2.0)) / 2.0


def np_logaddexp(x: Any, y: Any) -> tuple[Any, dict[str, Any]]:
    # ∂/∂x = e^x/(e^x + e^y) = σ(x − y) and ∂/∂y = σ(y − x): the softmax of (x, y).
    return np.logaddexp(x, y), {"x": np_sigmoid_by_tanh(x - y), "y": np_sigmoid_by_tanh(y - x)}


def np_relu(x: Any) -> tuple[Any, dict[str, Any]]:
    return np.maximum(x, 0.0), {"x": np.where(x > 0.0, 1.0, 0.0)}


def np_abs(x: Any) -> tuple[Any, dict[str, Any]]:
    return np.abs(x), {"x": np.sign(x)}


def np_max(x: Any, y: Any) -> tuple[Any, dict[str, Any]]:
    # The gradient goes to x where x >= y, else to y (the documented choice; NumPy has none).
    return np.maximum(x, y), {"x": np.where(x >= y, 1.0, 0.0), "y": np.where(x >= y, 0.0, 1.0)}


def np_min(x: Any, y: Any) -> tuple[Any, dict[str, Any]]:
    return np.minimum(x, y), {"x": np.where(y >= x, 1.0, 0.0), "y": np.where(y >= x, 0.0, 1.0)}


def np_acos(x: Any) -> tuple[Any, dict[str, Any]]:
    # d(acos x)/dx = −1/√(1 − x²), with 1 − x² as (1 − x)(1 + x)
    return np.arccos(x), {"x": -1.0 / np.sqrt((1.0 - x) * (1.0 + x))}


def np_atanh(x: Any) -> tuple[Any, dict[str, Any]]:
    return np.arctanh(x), {"x": 1.0 / ((1.0 - x) * (1.0 + x))}


def np_cbrt(x: Any) -> tuple[Any, dict[str, Any]]:
    # d(∛x)/dx = 1/(3∛x²)
    return np.cbrt(x), {"x": 1.0 / (3.0 * np.cbrt(x) ** 2)}


def np_atan2(y: Any, x: Any) -> tuple[Any, dict[str, Any]]:
    squared = x * x + y * y
    return np.arctan2(y, x), {"y": x / squared, "x": -y / squared}


def np_hypot(x: Any, y: Any) -> tuple[Any, dict[str, Any]]:
    # a/hypot(a, b), and the documented 0 where hypot(a, b) = 0 (NumPy has no such choice).
    length = np.hypot(x, y)
    where = length != 0.0
    gradients = {
        name: np.divide(v, length, out=np.zeros_like(length), where=where)
        for name, v in (("x", x), ("y", y))
    }
    return length, gradients


def np_floor(x: Any) -> tuple[Any, dict[str, Any]]:
    return np.floor(x), {"x": np.zeros_like(x)}  # a step: 0 wherever a derivative exists


def np_floor_times(x: Any, y: Any) -> tuple[Any, dict[str, Any]]:
    return np.floor(x) * y, {"x": np.zeros_like(x), "y": np.floor(x)}


# ---------------------------------------------------------------------------------------------
# The cases.

CASES = [
    # exp overflows above about 709.78; e^-1000 underflows to 0, which NumPy does not warn about.
    Case(
        "exp(1000)",
        "exp(x)",
        (1000.0,),
        Fails("overflow", "exp(x)", in_gradient=False),
        (inf, {"x": inf}, {OVERFLOW_EXP}),
        np_exp,
    ),
    Case("exp(-1000)", "exp(x)", (-1000.0,), (0.0, {"x": 0.0}), (0.0, {"x": 0.0}, set()), np_exp),
    # σ(1000) = 1 − e^-1000 and σ'(±1000) ≈ e^-1000 round to 1 and 0.
    Case(
        "sigmoid(1000)",
        "sigmoid(x)",
        (1000.0,),
        (1.0, {"x": 0.0}),
        (1.0, {"x": 0.0}, set()),
        np_sigmoid,
    ),
    Case(
        "sigmoid(-1000)",
        "sigmoid(x)",
        (-1000.0,),
        (0.0, {"x": 0.0}),
        (0.0, {"x": 0.0}, set()),
        np_sigmoid,
    ),
    # The naive formula is rewritten to the sigmoid gate by default ...
    Case(
        "naive sigmoid(1000)",
        "1/(1+exp(-x))",
        (1000.0,),
        (1.0, {"x": 0.0}),
        (1.0, {"x": 0.0}, set()),
        np_sigmoid,
    ),
    Case(
        "naive sigmoid(-1000)",
        "1/(1+exp(-x))",
        (-1000.0,),
        (0.0, {"x": 0.0}),
        (0.0, {"x": 0.0}, set()),
        np_sigmoid,
    ),
    # ... and computed as written with rewrite=False: at -1000, e^1000 overflows.
    Case(
        "naive sigmoid(1000) rewrite=False",
        "1/(1+exp(-x))",
        (1000.0,),
        (1.0, {"x": 0.0}),
        (1.0, {"x": 0.0}, set()),
        np_naive_sigmoid,
        {"rewrite": False},
    ),
    Case(
        "naive sigmoid(-1000) rewrite=False",
        "1/(1+exp(-x))",
        (-1000.0,),
        Fails("overflow", "exp(-x)", in_gradient=False),
        (0.0, {"x": nan}, {OVERFLOW_EXP, INVALID_MULTIPLY}),  # the gradient is inf · 0
        np_naive_sigmoid,
        {"rewrite": False},
    ),
    # log(0) = −inf and log'(0) = 1/0 = inf; log(−1) is NaN, but the formal 1/x is −1.
    Case(
        "log(0)",
        "log(x)",
        (0.0,),
        Fails(math_error(math.log, 0.0), "log(x)", in_gradient=False),
        (-inf, {"x": inf}, {DIVIDE_LOG, DIVIDE_DIVIDE}),
        np_log,
    ),
    Case(
        "log(-1)",
        "log(x)",
        (-1.0,),
        Fails(math_error(math.log, -1.0), "log(x)", in_gradient=False),
        (nan, {"x": -1.0}, {INVALID_LOG}),
        np_log,
    ),
    # √0 = 0, but d√x/dx = 1/(2√x) is 0.5/0: inf, the limit from the right.
    Case(
        "sqrt(0)",
        "sqrt(x)",
        (0.0,),
        Fails("division by zero", "sqrt(x)", in_gradient=True),
        (0.0, {"x": inf}, {DIVIDE_DIVIDE}),
        np_sqrt,
    ),
    Case(
        "sqrt(-1)",
        "sqrt(x)",
        (-1.0,),
        Fails(math_error(math.sqrt, -1.0), "sqrt(x)", in_gradient=False),
        (nan, {"x": nan}, {INVALID_SQRT}),
        np_sqrt,
    ),
    # x**0.5 is computed by math.pow and NumPy's `**`; its gradient 0.5·x**-0.5 needs 0**-0.5.
    Case(
        "x**0.5 at 0",
        "x**0.5",
        (0.0,),
        Fails(math_error(math.pow, 0.0, -0.5), "x**0.5", in_gradient=True),
        (0.0, {"x": inf}, {DIVIDE_POWER}),
        np_power_half,
    ),
    Case(
        "x**0.5 at -1",
        "x**0.5",
        (-1.0,),
        Fails(math_error(math.pow, -1.0, 0.5), "x**0.5", in_gradient=False),
        # NumPy's `array ** 0.5` calls sqrt, hence the sqrt warning.
        (nan, {"x": nan}, {INVALID_SQRT, INVALID_POWER}),
        np_power_half,
    ),
    # 0 · inf is NaN (silently in Python); the gradients y and x are inf and 0.
    Case(
        "0*inf",
        "x*y",
        (0.0, inf),
        (nan, {"x": inf, "y": 0.0}),
        (nan, {"x": inf, "y": 0.0}, {INVALID_MULTIPLY}),
        np_multiply,
    ),
    Case(
        "1/x at 0",
        "1/x",
        (0.0,),
        Fails("division by zero", "1/x", in_gradient=False),
        (inf, {"x": -inf}, {DIVIDE_DIVIDE}),  # −1/x² → −inf
        np_reciprocal,
    ),
    Case(
        "0/0",
        "x/y",
        (0.0, 0.0),
        Fails("division by zero", "x/y", in_gradient=False),
        (nan, {"x": inf, "y": nan}, {INVALID_DIVIDE, DIVIDE_DIVIDE}),
        np_divide,
    ),
    # tanh saturates: tanh(±1000) = ±1 and 1 − tanh² = 0 (the true 4e-869 underflows).
    Case("tanh(1000)", "tanh(x)", (1000.0,), (1.0, {"x": 0.0}), (1.0, {"x": 0.0}, set()), np_tanh),
    Case(
        "tanh(-1000)",
        "tanh(x)",
        (-1000.0,),
        (-1.0, {"x": 0.0}),
        (-1.0, {"x": 0.0}, set()),
        np_tanh,
    ),
    # softplus(1000) = 1000 + log1p(e^-1000) = 1000; softplus(-1000) = e^-1000 → 0.
    Case(
        "softplus(1000)",
        "softplus(x)",
        (1000.0,),
        (1000.0, {"x": 1.0}),
        (1000.0, {"x": 1.0}, set()),
        np_softplus,
    ),
    Case(
        "softplus(-1000)",
        "softplus(x)",
        (-1000.0,),
        (0.0, {"x": 0.0}),
        (0.0, {"x": 0.0}, set()),
        np_softplus,
    ),
    # log(e^a + e^b) with both infinite: the value is right, but the gradient σ(a − b) needs
    # a − b = inf − inf = NaN (and has no limit: it depends on how the point is approached).
    Case(
        "logaddexp(-inf, -inf)",
        "logaddexp(x, y)",
        (-inf, -inf),
        (-inf, {"x": nan, "y": nan}),
        (-inf, {"x": nan, "y": nan}, {INVALID_SUBTRACT}),
        np_logaddexp,
    ),
    Case(
        "logaddexp(inf, inf)",
        "logaddexp(x, y)",
        (inf, inf),
        (inf, {"x": nan, "y": nan}),
        (inf, {"x": nan, "y": nan}, {INVALID_SUBTRACT}),
        np_logaddexp,
    ),
    # One infinite input: a − b = inf, so the gradient is σ(inf), σ(−inf) = 1, 0, the limits.
    Case(
        "logaddexp(inf, 0)",
        "logaddexp(x, y)",
        (inf, 0.0),
        (inf, {"x": 1.0, "y": 0.0}),
        (inf, {"x": 1.0, "y": 0.0}, set()),
        np_logaddexp,
    ),
    # NaN inputs: NaN values, no error and no warning.  The comparisons routing relu, max and
    # min fail for NaN, so relu passes no gradient and max/min send it all to the second input.
    Case("exp(nan)", "exp(x)", (nan,), (nan, {"x": nan}), (nan, {"x": nan}, set()), np_exp),
    Case("relu(nan)", "relu(x)", (nan,), (nan, {"x": 0.0}), (nan, {"x": 0.0}, set()), np_relu),
    Case("abs(nan)", "abs(x)", (nan,), (nan, {"x": nan}), (nan, {"x": nan}, set()), np_abs),
    Case(
        "max(nan, 1)",
        "max(x, y)",
        (nan, 1.0),
        (nan, {"x": 0.0, "y": 1.0}),
        (nan, {"x": 0.0, "y": 1.0}, set()),
        np_max,
    ),
    Case(
        "max(1, nan)",
        "max(x, y)",
        (1.0, nan),
        (nan, {"x": 0.0, "y": 1.0}),
        (nan, {"x": 0.0, "y": 1.0}, set()),
        np_max,
    ),
    Case(
        "min(nan, 1)",
        "min(x, y)",
        (nan, 1.0),
        (nan, {"x": 0.0, "y": 1.0}),
        (nan, {"x": 0.0, "y": 1.0}, set()),
        np_min,
    ),
    Case(
        "min(1, nan)",
        "min(x, y)",
        (1.0, nan),
        (nan, {"x": 0.0, "y": 1.0}),
        (nan, {"x": 0.0, "y": 1.0}, set()),
        np_min,
    ),
    # No reference: NumPy has no sigmoid, and the stable form above, through logaddexp, warns.
    Case("sigmoid(nan)", "sigmoid(x)", (nan,), (nan, {"x": nan}), (nan, {"x": nan}, set()), None),
    # NumPy's logaddexp (which computes softplus in array mode) warns about a NaN input.
    Case(
        "softplus(nan)",
        "softplus(x)",
        (nan,),
        (nan, {"x": nan}),
        (nan, {"x": nan}, {INVALID_LOGADDEXP}),
        np_softplus,
    ),
    Case(
        "logaddexp(nan, 0)",
        "logaddexp(x, y)",
        (nan, 0.0),
        (nan, {"x": nan, "y": nan}),
        (nan, {"x": nan, "y": nan}, {INVALID_LOGADDEXP}),
        np_logaddexp,
    ),
    # Infinite inputs: the limits, without a warning.
    Case(
        "sigmoid(inf)",
        "sigmoid(x)",
        (inf,),
        (1.0, {"x": 0.0}),
        (1.0, {"x": 0.0}, set()),
        np_sigmoid,
    ),
    Case(
        "sigmoid(-inf)",
        "sigmoid(x)",
        (-inf,),
        (0.0, {"x": 0.0}),
        (0.0, {"x": 0.0}, set()),
        np_sigmoid,
    ),
    Case("relu(inf)", "relu(x)", (inf,), (inf, {"x": 1.0}), (inf, {"x": 1.0}, set()), np_relu),
    Case("relu(-inf)", "relu(x)", (-inf,), (0.0, {"x": 0.0}), (0.0, {"x": 0.0}, set()), np_relu),
    Case("tanh(inf)", "tanh(x)", (inf,), (1.0, {"x": 0.0}), (1.0, {"x": 0.0}, set()), np_tanh),
    Case(
        "tanh(-inf)",
        "tanh(x)",
        (-inf,),
        (-1.0, {"x": 0.0}),
        (-1.0, {"x": 0.0}, set()),
        np_tanh,
    ),
    Case("exp(inf)", "exp(x)", (inf,), (inf, {"x": inf}), (inf, {"x": inf}, set()), np_exp),
    Case("exp(-inf)", "exp(x)", (-inf,), (0.0, {"x": 0.0}), (0.0, {"x": 0.0}, set()), np_exp),
    # At the edge of its domain acos′ = −1/√(1 − x²) is −1/0: −inf, the one-sided limit.
    Case(
        "acos(1)",
        "acos(x)",
        (1.0,),
        Fails("division by zero", "acos(x)", in_gradient=True),
        (0.0, {"x": -inf}, {DIVIDE_DIVIDE}),
        np_acos,
    ),
    Case(
        "acos(2)",
        "acos(x)",
        (2.0,),
        Fails(math_error(math.acos, 2.0), "acos(x)", in_gradient=False),
        (nan, {"x": nan}, {INVALID_ARCCOS, INVALID_SQRT}),
        np_acos,
    ),
    # atanh(1) = inf, which math treats as outside the domain.
    Case(
        "atanh(1)",
        "atanh(x)",
        (1.0,),
        Fails(math_error(math.atanh, 1.0), "atanh(x)", in_gradient=False),
        (inf, {"x": inf}, {DIVIDE_ARCTANH, DIVIDE_DIVIDE}),
        np_atanh,
    ),
    # ∛x has a vertical tangent at 0: its derivative 1/(3∛x²) is 1/0.
    Case(
        "cbrt(0)",
        "cbrt(x)",
        (0.0,),
        Fails("division by zero", "cbrt(x)", in_gradient=True),
        (0.0, {"x": inf}, {DIVIDE_DIVIDE}),
        np_cbrt,
    ),
    # atan2(0, 0) = 0, as math and NumPy define it, but its gradient x/(x² + y²) is 0/0.
    Case(
        "atan2(0, 0)",
        "atan2(y, x)",
        (0.0, 0.0),
        Fails("division by zero", "atan2(y, x)", in_gradient=True),
        (0.0, {"y": nan, "x": nan}, {INVALID_DIVIDE}),
        np_atan2,
    ),
    # hypot at the origin: the chosen subgradient 0, 0, as norm's.
    Case(
        "hypot(0, 0)",
        "hypot(x, y)",
        (0.0, 0.0),
        (0.0, {"x": 0.0, "y": 0.0}),
        (0.0, {"x": 0.0, "y": 0.0}, set()),
        np_hypot,
    ),
    # Steps: the gradient is 0 at the step, at infinities and NaN, and whatever the upstream.
    Case("floor(2)", "floor(x)", (2.0,), (2.0, {"x": 0.0}), (2.0, {"x": 0.0}, set()), np_floor),
    Case("floor(inf)", "floor(x)", (inf,), (inf, {"x": 0.0}), (inf, {"x": 0.0}, set()), np_floor),
    Case("floor(nan)", "floor(x)", (nan,), (nan, {"x": 0.0}), (nan, {"x": 0.0}, set()), np_floor),
    Case(
        "floor(2.5)*inf",
        "floor(x)*y",
        (2.5, inf),
        (inf, {"x": 0.0, "y": 2.0}),
        (inf, {"x": 0.0, "y": 2.0}, set()),
        np_floor_times,
    ),
]

FLOAT_RESULTS = [case for case in CASES if not isinstance(case.float_mode, Fails)]
FLOAT_FAILURES = [case for case in CASES if isinstance(case.float_mode, Fails)]


def by_id(cases: list[Case]) -> Any:
    return pytest.mark.parametrize("case", cases, ids=[case.id for case in cases])


# ---------------------------------------------------------------------------------------------
# Running a case.


def compiled(case: Case) -> sb.CompiledFunction:
    return sb.compile(case.text, **case.options)


def recording(function: Callable[..., Any], *arguments: Any) -> tuple[Any, list[str]]:
    """`function(*arguments)` and the messages of every warning it emitted, in order."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = function(*arguments)
    assert all(issubclass(warning.category, RuntimeWarning) for warning in caught), caught
    return result, [str(warning.message) for warning in caught]


def arrays(case: Case) -> list[np.ndarray]:
    return [np.array([value]) for value in case.inputs]


def same_float(got: Any, expected: float) -> bool:
    """Exactly equal, or both NaN; and a Python float."""
    if type(got) is not float:
        return False
    return got == expected or (math.isnan(got) and math.isnan(expected))


def assert_same_array(got: Any, expected: Any) -> None:
    """Equal elementwise (NaN equals NaN), with the same shape and dtype float64."""
    assert isinstance(got, np.ndarray), type(got)
    expected = np.asarray(expected, dtype=np.float64)
    assert got.dtype == np.float64
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected, strict=True)


# ---------------------------------------------------------------------------------------------
# Float mode.


@by_id(FLOAT_RESULTS)
def test_float_mode_result(case: Case) -> None:
    (value, grads), messages = recording(compiled(case), *case.inputs)
    expected_value, expected_grads = case.float_mode  # type: ignore[misc]
    assert same_float(value, expected_value), value
    assert list(grads) == list(expected_grads)
    for name, gradient in grads.items():
        assert same_float(gradient, expected_grads[name]), (name, gradient)
    assert messages == []


@by_id(FLOAT_FAILURES)
def test_float_mode_error(case: Case) -> None:
    failure = case.float_mode
    assert isinstance(failure, Fails)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(EvaluationError) as info:
            compiled(case)(*case.inputs)
    error = info.value
    assert isinstance(error, ValueError)
    assert error.message == failure.message()
    span = error.span
    assert span is not None
    assert case.text[span.start : span.end] == failure.snippet
    column = case.text.index(failure.snippet) + 1
    assert str(error).splitlines()[0] == f"{failure.message()} (at line 1, column {column})"
    # The cause is the Python exception the generated code raised.
    assert isinstance(error.__cause__, ArithmeticError | ValueError)


@by_id(FLOAT_FAILURES)
def test_float_mode_value_alone_fails_only_for_a_forward_failure(case: Case) -> None:
    """`f.value` skips the backward pass, so a gradient's failure does not happen there."""
    failure = case.float_mode
    assert isinstance(failure, Fails)
    f = compiled(case)
    if failure.in_gradient:
        value, messages = recording(f.value, *case.inputs)
        assert same_float(value, case.array_mode[0])
        assert messages == []
    else:
        with pytest.raises(EvaluationError) as info:
            f.value(*case.inputs)
        assert info.value.message == failure.message()


@by_id(FLOAT_RESULTS)
def test_float_mode_agrees_with_array_mode(case: Case) -> None:
    value, grads = compiled(case)(*case.inputs)
    (array_value, array_grads), _ = recording(compiled(case), *arrays(case))
    assert_same_array(np.array([value]), array_value)
    assert list(grads) == list(array_grads)
    for name, gradient in grads.items():
        assert_same_array(np.array([gradient]), array_grads[name])


# ---------------------------------------------------------------------------------------------
# Array mode.


@by_id(CASES)
def test_array_mode(case: Case) -> None:
    (value, grads), messages = recording(compiled(case), *arrays(case))
    expected_value, expected_grads, expected_warnings = case.array_mode
    assert_same_array(value, [expected_value])
    assert list(grads) == list(expected_grads)
    for name, gradient in grads.items():
        assert_same_array(gradient, [expected_grads[name]])
    assert set(messages) == expected_warnings


@by_id([case for case in CASES if case.numpy is not None])
def test_array_mode_does_what_numpy_does(case: Case) -> None:
    """The same value, gradients and warnings as the computation written with NumPy ufuncs."""
    assert case.numpy is not None
    (value, grads), messages = recording(compiled(case), *arrays(case))
    (numpy_value, numpy_grads), numpy_messages = recording(case.numpy, *arrays(case))
    assert_same_array(value, numpy_value)
    assert list(grads) == list(numpy_grads)
    for name, gradient in grads.items():
        assert_same_array(gradient, numpy_grads[name])
    assert set(messages) == set(numpy_messages)


def test_array_mode_raises_under_numpy_errstate() -> None:
    """With np.errstate(all="raise") the warnings become errors located like float mode's."""
    with np.errstate(all="raise"), pytest.raises(EvaluationError) as info:
        sb.compile("sqrt(x)")(np.array([0.0]))
    expected = f"{DIVIDE_DIVIDE} while computing the gradient of 'sqrt(x)'"
    assert info.value.message == expected


def test_array_warnings_are_per_call_not_per_element() -> None:
    """Several bad elements in one array give each warning once: NumPy warns once per ufunc."""
    (value, grads), messages = recording(sb.compile("log(x)"), np.array([0.0, 0.0, -1.0, 1.0]))
    assert_same_array(value, [-inf, -inf, nan, 0.0])
    assert_same_array(grads["x"], [inf, inf, -1.0, 1.0])
    assert sorted(messages) == sorted([DIVIDE_LOG, INVALID_LOG, DIVIDE_DIVIDE])


# ---------------------------------------------------------------------------------------------
# Cases that need more than one exact answer.


def test_naive_sigmoid_is_rewritten_by_default() -> None:
    assert [r.gate for r in sb.compile("1/(1+exp(-x))").rewrites] == ["sigmoid"]
    assert sb.compile("1/(1+exp(-x))", rewrite=False).rewrites == ()


def test_logaddexp_of_equal_large_inputs() -> None:
    """logaddexp(1000, 1000) = 1000 + log 2, with gradient exactly (½, ½) in both modes.

    The gradient is σ(a − b), σ(b − a) = σ(0) = ½: it uses the inputs alone, so the rounding
    error of the value 1000 + log 2 (half an ulp, 5.7e-14) does not reach it.
    """
    f = sb.compile("logaddexp(x, y)")
    (value, grads), messages = recording(f, 1000.0, 1000.0)
    assert value == 1000.0 + math.log(2.0)
    assert messages == []
    assert grads == {"x": 0.5, "y": 0.5}

    (array_value, array_grads), array_messages = recording(
        f, np.array([1000.0]), np.array([1000.0])
    )
    (numpy_value, numpy_grads), numpy_messages = recording(
        np_logaddexp, np.array([1000.0]), np.array([1000.0])
    )
    assert_same_array(array_value, numpy_value)
    assert_same_array(array_value, [value])
    for name in ("x", "y"):
        assert_same_array(array_grads[name], numpy_grads[name])
        assert_same_array(array_grads[name], [grads[name]])
    assert array_messages == numpy_messages == []


@pytest.mark.parametrize("mode", ["float", "array"])
def test_logaddexp_gradient_at_one_infinite_input(mode: str) -> None:
    """At (inf, 0) the gradient is the limit (1, 0): σ(inf) and σ(−inf), with no inf − inf."""
    f = sb.compile("logaddexp(x, y)")
    inputs = (inf, 0.0) if mode == "float" else (np.array([inf]), np.array([0.0]))
    (value, grads), _ = recording(f, *inputs)
    assert np.all(value == inf)
    assert np.all(grads["x"] == 1.0) and np.all(grads["y"] == 0.0)


def test_logaddexp_gradient_of_huge_equal_inputs() -> None:
    """At (1e16, 1e16) the value loses log 2 in rounding, but the gradient is still σ(0) = ½."""
    value, grads = sb.compile("logaddexp(x, y)")(1e16, 1e16)
    assert value == 1e16  # 1e16 + log 2 rounds to 1e16
    assert grads == {"x": 0.5, "y": 0.5}
