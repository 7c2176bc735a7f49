"""The gate registry and one-gate formulas, checked against the math.

Every expected number here comes from SymPy (symbolic derivatives evaluated at a point) or from
centered finite differences — never from symbackprop itself.  The gate rules are checked
directly, by running them on SymPy expressions through a `GateNamespace`, and then again through
the public compiler, in float mode (Python floats, `math`) and array mode (NumPy arrays).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sympy

import symbackprop
from symbackprop import runtime
from symbackprop.gates import ALIASES, CONSTANTS, FUNCTIONS, GATES, RESERVED, GateNamespace

# No test here should provoke a warning (overflow, invalid value ...): make any warning fail.
pytestmark = pytest.mark.filterwarnings("error")

SYMPY_NS = GateNamespace(lambda name, args: GATES[name].sympy(sympy, *args))

RTOL = 1e-6  # finite differences
EXACT_RTOL = 1e-11  # SymPy references, computed with 30 significant digits


def sym(name: str) -> sympy.Symbol:
    return sympy.Symbol(name, real=True)


def sympy_float(expr: Any, point: dict[str, float]) -> float:
    """`expr` evaluated at `point` (input name -> float) with 30 significant digits."""
    substituted = sympy.sympify(expr).subs({sym(k): sympy.Float(v, 30) for k, v in point.items()})
    return float(sympy.N(substituted, 30))


def derivative(expr: Any, symbol: sympy.Symbol) -> Any:
    """SymPy's derivative, with the derivatives of floor and ceiling set to 0.

    SymPy leaves those unevaluated (`Derivative(floor(x), x)`, or a `Subs` of it after the chain
    rule) and cannot evaluate them at a point; away from the integers, where every point of these
    tests lies, they are 0.  (sign's derivative SymPy writes as a DiracDelta, 0 there already.)
    """
    steps = (sympy.floor, sympy.ceiling)
    return sympy.diff(expr, symbol).replace(
        lambda part: isinstance(part, (sympy.Derivative, sympy.Subs)) and part.has(*steps),
        lambda part: sympy.Integer(0),
    )


def close(actual: float, expected: float, rtol: float = EXACT_RTOL, atol: float = 1e-12) -> bool:
    return math.isclose(float(actual), float(expected), rel_tol=rtol, abs_tol=atol)


# ---------------------------------------------------------------------------------------------
# Points inside each gate's domain, away from kinks, ties and singularities.

GATE_POINTS: dict[str, list[tuple[float, ...]]] = {
    "add": [(1.3, -0.7), (-2.5, 4.0), (0.25, 0.5)],
    "sub": [(1.3, -0.7), (-2.5, 4.0), (0.25, 0.5)],
    "mul": [(1.3, -0.7), (-2.5, 4.0), (0.25, 0.5)],
    "div": [(1.3, -0.7), (-2.5, 4.0), (0.25, 3.5)],
    "neg": [(1.3,), (-2.5,), (0.0,)],
    "pow": [(1.5, 2.5), (0.7, -1.3), (3.0, 0.5)],
    "exp": [(1.3,), (-2.5,), (0.0,)],
    "log": [(1.3,), (0.2,), (7.5,)],
    "sqrt": [(1.3,), (0.2,), (7.5,)],
    "sin": [(1.3,), (-2.5,), (0.0,)],
    "cos": [(1.3,), (-2.5,), (0.0,)],
    "tan": [(0.3,), (-1.2,), (1.0,)],
    "sec": [(0.5,), (-2.5,), (0.0,)],
    "csc": [(0.5,), (-2.5,), (1.3,)],
    "cot": [(0.5,), (-2.5,), (1.3,)],
    "asin": [(0.3,), (-0.8,), (0.0,)],
    "acos": [(0.3,), (-0.8,), (0.0,)],
    "atan": [(1.3,), (-2.5,), (0.0,)],
    # atan2(y, x) in all four quadrants and on the positive x axis
    "atan2": [(1.0, -1.0), (-1.0, -1.0), (0.5, 2.0), (-2.0, 0.3), (0.0, 1.5)],
    "sinh": [(1.3,), (-2.5,), (0.0,)],
    "cosh": [(1.3,), (-2.5,), (0.0,)],
    "tanh": [(1.3,), (-2.5,), (0.0,)],
    "asinh": [(1.3,), (-2.5,), (0.0,)],
    "acosh": [(1.3,), (2.5,), (7.0,)],
    "atanh": [(0.3,), (-0.8,), (0.0,)],
    "log2": [(1.3,), (0.2,), (8.0,)],
    "log10": [(1.3,), (0.2,), (1000.0,)],
    "exp2": [(1.3,), (-2.5,), (0.0,)],
    "cbrt": [(1.3,), (-2.5,), (8.0,)],
    "hypot": [(3.0, 4.0), (-1.3, 0.7), (0.0, -2.0)],
    "erf": [(0.5,), (-1.3,), (0.0,)],
    "erfc": [(0.5,), (-1.3,), (3.0,)],
    "floor": [(1.3,), (-2.5,), (0.75,)],
    "ceil": [(1.3,), (-2.5,), (0.75,)],
    "sign": [(1.3,), (-2.5,), (0.75,)],
    "sigmoid": [(1.3,), (-2.5,), (0.0,)],
    "relu": [(1.3,), (-2.5,), (0.75,)],
    "abs": [(1.3,), (-2.5,), (0.75,)],
    "softplus": [(1.3,), (-2.5,), (0.0,)],
    "log1p": [(1.3,), (-0.5,), (0.01,)],
    "expm1": [(1.3,), (-2.5,), (0.01,)],
    "max": [(1.3, -0.7), (-2.5, 4.0), (0.5, 0.25)],
    "min": [(1.3, -0.7), (-2.5, 4.0), (0.5, 0.25)],
    "logaddexp": [(1.3, -0.7), (-2.5, 4.0), (0.5, 0.5)],
}

# The scalar (elementwise) gates; the array gates (shape rules) are tested in test_vectors.py.
SCALAR_GATES = {name: gate for name, gate in GATES.items() if gate.shape is None}
DIFFERENTIABLE = sorted(name for name, gate in SCALAR_GATES.items() if not gate.internal)


def test_every_differentiable_gate_has_points_and_one_rule_per_input() -> None:
    assert set(GATE_POINTS) == set(DIFFERENTIABLE)
    for name in DIFFERENTIABLE:
        gate = GATES[name]
        assert len(gate.rules) == gate.arity, name
        assert all(len(point) == gate.arity for point in GATE_POINTS[name]), name
    for name, gate in GATES.items():
        if gate.internal:
            assert gate.rules == (), name


def _rule_setup(name: str) -> tuple[Any, list[sympy.Symbol], Any]:
    gate = GATES[name]
    symbols = [sym(f"a{i}") for i in range(gate.arity)]
    return gate, symbols, gate.sympy(sympy, *symbols)


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_rule_is_the_sympy_derivative(name: str) -> None:
    gate, symbols, out = _rule_setup(name)
    for position, symbol in enumerate(symbols):
        rule = gate.rules[position]
        local = rule(SYMPY_NS, *symbols, out, sympy.Integer(1))
        reference = derivative(out, symbol)
        for values in GATE_POINTS[name]:
            point = {str(s): v for s, v in zip(symbols, values, strict=True)}
            got = sympy_float(local, point)
            want = sympy_float(reference, point)
            assert close(got, want), (name, position, values, got, want)


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_rule_is_linear_in_upstream(name: str) -> None:
    gate, symbols, out = _rule_setup(name)
    for position in range(gate.arity):
        rule = gate.rules[position]
        one = rule(SYMPY_NS, *symbols, out, sympy.Integer(1))
        three = rule(SYMPY_NS, *symbols, out, sympy.Integer(3))
        zero = rule(SYMPY_NS, *symbols, out, sympy.Integer(0))
        for values in GATE_POINTS[name]:
            point = {str(s): v for s, v in zip(symbols, values, strict=True)}
            assert close(sympy_float(three, point), 3 * sympy_float(one, point)), (name, values)
            assert sympy_float(zero, point) == 0.0, (name, values)


# Points for the reference implementations, including the internal gates and a few edges.
EVALUATE_POINTS: dict[str, list[tuple[Any, ...]]] = {
    **GATE_POINTS,
    "neg": [(1.3,), (-2.5,), (0.0,)],
    "relu": [(1.3,), (-2.5,), (0.0,)],
    "abs": [(1.3,), (-2.5,), (0.0,)],
    "max": [(1.3, -0.7), (-2.5, 4.0), (2.0, 2.0)],
    "min": [(1.3, -0.7), (-2.5, 4.0), (2.0, 2.0)],
    "pow": [(1.5, 2.5), (0.7, -1.3), (3.0, 0.5), (-2.0, 3.0)],
    "atan2": [*GATE_POINTS["atan2"], (0.0, -1.0), (3.0, 0.0), (-3.0, 0.0)],
    "hypot": [*GATE_POINTS["hypot"], (0.0, 0.0), (-0.0, -3.0)],
    "cbrt": [*GATE_POINTS["cbrt"], (0.0,), (-27.0,), (1e-300,)],
    "erfc": [*GATE_POINTS["erfc"], (10.0,), (-10.0,)],
    "floor": [*GATE_POINTS["floor"], (2.0,), (-3.0,), (-0.5,), (0.0,)],
    "ceil": [*GATE_POINTS["ceil"], (2.0,), (-3.0,), (-0.5,), (0.0,)],
    "ge": [(1.0, 2.0), (2.0, 1.0), (1.5, 1.5)],
    "gt": [(1.0, 2.0), (2.0, 1.0), (1.5, 1.5)],
    "eq": [(1.0, 2.0), (1.5, 1.5)],
    "where": [(True, 2.0, 3.0), (False, 2.0, 3.0)],
    "sign": [(-2.5,), (0.0,), (3.0,)],
    "unit": [(3.0, 5.0), (-1.5, 2.0), (0.0, 2.0)],
    "xlogy": [(2.0, 3.0), (-1.5, 0.5), (0.0, 2.0)],
}


def test_every_gate_has_evaluate_points() -> None:
    assert set(EVALUATE_POINTS) == set(SCALAR_GATES)


@pytest.mark.parametrize("name", sorted(SCALAR_GATES))
def test_evaluate_agrees_with_sympy(name: str) -> None:
    gate = GATES[name]
    for values in EVALUATE_POINTS[name]:
        got = gate.evaluate(*values)
        arguments = [sympy.true if v is True else sympy.false if v is False else v for v in values]
        arguments = [a if isinstance(a, sympy.Basic) else sympy.Float(a, 30) for a in arguments]
        reference = gate.sympy(sympy, *arguments)
        if isinstance(reference, sympy.logic.boolalg.Boolean):
            assert bool(got) == bool(reference), (name, values)
        else:
            assert close(got, float(sympy.N(reference, 30))), (name, values, got, reference)


# ---------------------------------------------------------------------------------------------
# One-gate formulas through the public compiler.


def _points(names: str, *rows: tuple[float, ...]) -> list[dict[str, float]]:
    keys = names.split()
    return [dict(zip(keys, row, strict=True)) for row in rows]


X3 = _points("x", (1.3,), (-0.7,), (2.2,))
POSITIVE_X3 = _points("x", (1.3,), (0.4,), (5.5,))
XY3 = _points("x y", (1.3, -0.7), (-2.5, 4.0), (0.25, 0.5))
POWER3 = _points("x y", (1.5, 2.5), (0.7, -1.3), (3.0, 0.5))
ABC3 = _points("a b c", (1.3, -0.7, 0.2), (-2.5, 4.0, 1.0), (0.25, 0.5, 3.0))
INSIDE_UNIT_X3 = _points("x", (0.3,), (-0.7,), (0.95,))
ABOVE_ONE_X3 = _points("x", (1.05,), (2.5,), (40.0,))
# atan2(y, x) in the four quadrants, and next to the branch cut on either side of it
ATAN2_POINTS = _points("y x", (1.0, -1.0), (-1.0, -1.0), (0.5, 2.0), (-2.0, 0.3), (1e-3, -2.0))
ATAN2_POINTS += _points("y x", (-1e-3, -2.0))

x, y, a, b, c = (sym(n) for n in ("x", "y", "a", "b", "c"))

# formula -> (its SymPy expression, written by hand, and points away from kinks and poles)
ONE_GATE: dict[str, tuple[Any, list[dict[str, float]]]] = {
    "x + y": (x + y, XY3),
    "x - y": (x - y, XY3),
    "x * y": (x * y, XY3),
    "x / y": (x / y, XY3),
    "x ** y": (x**y, POWER3),
    "x ^ y": (x**y, POWER3),
    "pow(x, y)": (x**y, POWER3),
    "x ** 3": (x**3, X3),
    "-x": (-x, X3),
    "+x": (x, X3),
    "exp(x)": (sympy.exp(x), X3),
    "log(x)": (sympy.log(x), POSITIVE_X3),
    "sqrt(x)": (sympy.sqrt(x), POSITIVE_X3),
    "sin(x)": (sympy.sin(x), X3),
    "cos(x)": (sympy.cos(x), X3),
    "tan(x)": (sympy.tan(x), X3[:2] + _points("x", (1.2,))),
    "sec(x)": (sympy.sec(x), X3),
    "csc(x)": (sympy.csc(x), X3),
    "cot(x)": (sympy.cot(x), X3),
    "asin(x)": (sympy.asin(x), INSIDE_UNIT_X3),
    "acos(x)": (sympy.acos(x), INSIDE_UNIT_X3),
    "atan(x)": (sympy.atan(x), X3),
    "atan2(y, x)": (sympy.atan2(y, x), ATAN2_POINTS),
    "sinh(x)": (sympy.sinh(x), X3),
    "cosh(x)": (sympy.cosh(x), X3),
    "tanh(x)": (sympy.tanh(x), X3),
    "asinh(x)": (sympy.asinh(x), X3),
    "acosh(x)": (sympy.acosh(x), ABOVE_ONE_X3),
    "atanh(x)": (sympy.atanh(x), INSIDE_UNIT_X3),
    "log2(x)": (sympy.log(x) / sympy.log(2), POSITIVE_X3),
    "log10(x)": (sympy.log(x) / sympy.log(10), POSITIVE_X3),
    "exp2(x)": (2**x, X3),
    "cbrt(x)": (sympy.sign(x) * sympy.Abs(x) ** sympy.Rational(1, 3), X3),
    "hypot(x, y)": (sympy.sqrt(x**2 + y**2), XY3),
    "erf(x)": (sympy.erf(x), X3),
    "erfc(x)": (sympy.erfc(x), X3 + _points("x", (4.5,))),
    "floor(x)": (sympy.floor(x), X3),
    "ceil(x)": (sympy.ceiling(x), X3),
    "sign(x)": (sympy.sign(x), X3),
    "sigmoid(x)": (1 / (1 + sympy.exp(-x)), X3),
    "relu(x)": (sympy.Max(x, 0), X3),
    "abs(x)": (sympy.Abs(x), X3),
    "softplus(x)": (sympy.log(1 + sympy.exp(x)), X3),
    "log1p(x)": (sympy.log(1 + x), _points("x", (1.3,), (-0.7,), (1e-3,))),
    "expm1(x)": (sympy.exp(x) - 1, X3),
    "max(x, y)": (sympy.Max(x, y), XY3),
    "min(x, y)": (sympy.Min(x, y), XY3),
    "max(a, b, c)": (sympy.Max(a, b, c), ABC3),
    "min(a, b, c)": (sympy.Min(a, b, c), ABC3),
    "logaddexp(x, y)": (sympy.log(sympy.exp(x) + sympy.exp(y)), XY3),
}


def test_one_gate_table_covers_every_function_and_operator() -> None:
    called = {text.split("(")[0] for text in ONE_GATE if "(" in text}
    assert called == {name for name, gate in FUNCTIONS.items() if gate.shape is None}
    for operator in ("+", "-", "*", "/", "**", "^"):
        assert f"x {operator} y" in ONE_GATE
    assert "-x" in ONE_GATE


def _finite_difference(function: Callable[..., Any], point: dict[str, Any], name: str) -> Any:
    """Centered difference of `function` in input `name` (elementwise for arrays)."""
    h = 1e-6 * np.maximum(1.0, np.abs(point[name]))
    plus = dict(point, **{name: point[name] + h})
    minus = dict(point, **{name: point[name] - h})
    return (function(**plus) - function(**minus)) / (2 * h)


def check_formula(text: str, expr: Any, points: list[dict[str, float]]) -> None:
    """Value and gradients of `compile(text)` against SymPy and finite differences, both modes."""
    f = symbackprop.compile(text)
    names = sorted(points[0])
    assert sorted(f.inputs) == names
    assert sorted(f.wrt) == names
    expected_value = [sympy_float(expr, point) for point in points]
    expected_grad = {
        name: [sympy_float(derivative(expr, sym(name)), point) for point in points]
        for name in names
    }

    # float mode
    for i, point in enumerate(points):
        value, grads = f(**point)
        assert type(value) is float, text
        assert close(value, expected_value[i]), (text, point, value, expected_value[i])
        assert set(grads) == set(names), text
        for name in names:
            want = expected_grad[name][i]
            assert close(grads[name], want), (text, point, name, grads[name], want)
            numeric = _finite_difference(f.value, point, name)
            assert close(grads[name], numeric, RTOL, RTOL), (text, point, name, numeric)

    # array mode: every input a 1-D array of the points' values
    arrays = {name: np.array([point[name] for point in points]) for name in names}
    value, grads = f(**arrays)
    assert isinstance(value, np.ndarray) and value.shape == (len(points),), text
    np.testing.assert_allclose(value, expected_value, rtol=EXACT_RTOL, atol=1e-12)
    assert set(grads) == set(names), text
    numeric_value = f.value(**arrays)
    np.testing.assert_allclose(numeric_value, expected_value, rtol=EXACT_RTOL, atol=1e-12)
    for name in names:
        assert isinstance(grads[name], np.ndarray) and grads[name].shape == (len(points),)
        np.testing.assert_allclose(
            grads[name], expected_grad[name], rtol=EXACT_RTOL, atol=1e-12, err_msg=text
        )
        numeric = _finite_difference(f.value, arrays, name)
        np.testing.assert_allclose(grads[name], numeric, rtol=RTOL, atol=RTOL, err_msg=text)


@pytest.mark.parametrize("text", list(ONE_GATE))
def test_one_gate_formula(text: str) -> None:
    expr, points = ONE_GATE[text]
    check_formula(text, expr, points)


# ---------------------------------------------------------------------------------------------
# Non-smooth gates: the documented choices at kinks and ties.

# (formula, point, expected value, expected gradients)
CONVENTIONS: list[tuple[str, dict[str, float], float, dict[str, float]]] = [
    ("relu(x)", {"x": 0.0}, 0.0, {"x": 0.0}),
    ("abs(x)", {"x": 0.0}, 0.0, {"x": 0.0}),
    ("max(x, x)", {"x": 1.5}, 1.5, {"x": 1.0}),
    ("min(x, x)", {"x": 1.5}, 1.5, {"x": 1.0}),
    ("max(x, x, x)", {"x": -0.5}, -0.5, {"x": 1.0}),
    ("max(a, b)", {"a": 2.0, "b": 2.0}, 2.0, {"a": 1.0, "b": 0.0}),
    ("min(a, b)", {"a": 2.0, "b": 2.0}, 2.0, {"a": 1.0, "b": 0.0}),
    ("max(b, a)", {"a": 2.0, "b": 2.0}, 2.0, {"a": 0.0, "b": 1.0}),
    ("min(b, a)", {"a": 2.0, "b": 2.0}, 2.0, {"a": 0.0, "b": 1.0}),
    ("max(a, b, c)", {"a": 1.0, "b": 3.0, "c": 3.0}, 3.0, {"a": 0.0, "b": 1.0, "c": 0.0}),
    ("max(a, b, c)", {"a": 3.0, "b": 1.0, "c": 3.0}, 3.0, {"a": 1.0, "b": 0.0, "c": 0.0}),
    ("max(a, b, c)", {"a": 3.0, "b": 3.0, "c": 3.0}, 3.0, {"a": 1.0, "b": 0.0, "c": 0.0}),
    ("min(a, b, c)", {"a": 4.0, "b": 1.0, "c": 1.0}, 1.0, {"a": 0.0, "b": 1.0, "c": 0.0}),
    ("min(a, b, c)", {"a": 1.0, "b": 4.0, "c": 1.0}, 1.0, {"a": 1.0, "b": 0.0, "c": 0.0}),
    ("max(0, x)", {"x": 0.0}, 0.0, {"x": 0.0}),
    ("max(x, 0)", {"x": 0.0}, 0.0, {"x": 1.0}),
    ("min(0, x)", {"x": 0.0}, 0.0, {"x": 0.0}),
    ("min(x, 0)", {"x": 0.0}, 0.0, {"x": 1.0}),
    # hypot's cone: 0, 0 at the origin, as norm′(0) = 0 (a/hypot(a, b) would be 0/0)
    ("hypot(a, b)", {"a": 0.0, "b": 0.0}, 0.0, {"a": 0.0, "b": 0.0}),
    ("hypot(a, b) + a", {"a": 0.0, "b": 0.0}, 0.0, {"a": 1.0, "b": 0.0}),
    # steps: the gradient is 0 at the jumps too
    ("floor(x)", {"x": 2.0}, 2.0, {"x": 0.0}),
    ("floor(x)", {"x": -3.0}, -3.0, {"x": 0.0}),
    ("ceil(x)", {"x": 2.0}, 2.0, {"x": 0.0}),
    ("ceil(x)", {"x": -0.5}, -0.0, {"x": 0.0}),
    ("sign(x)", {"x": 0.0}, 0.0, {"x": 0.0}),
    ("sign(x) * x", {"x": 0.0}, 0.0, {"x": 0.0}),
]


@pytest.mark.parametrize(("text", "point", "value", "gradients"), CONVENTIONS)
def test_non_smooth_convention_float(
    text: str, point: dict[str, float], value: float, gradients: dict[str, float]
) -> None:
    got_value, got = symbackprop.compile(text)(**point)
    assert got_value == value
    assert got == gradients


@pytest.mark.parametrize(("text", "point", "value", "gradients"), CONVENTIONS)
def test_non_smooth_convention_array(
    text: str, point: dict[str, float], value: float, gradients: dict[str, float]
) -> None:
    arrays = {name: np.full(3, v) for name, v in point.items()}
    got_value, got = symbackprop.compile(text)(**arrays)
    np.testing.assert_array_equal(got_value, np.full(3, value))
    assert set(got) == set(gradients)
    for name, gradient in gradients.items():
        np.testing.assert_array_equal(got[name], np.full(3, gradient), err_msg=f"{text} d{name}")


# ---------------------------------------------------------------------------------------------
# Numerical stability at the extremes.


def _both_modes(text: str, x_value: float) -> list[tuple[float, float]]:
    """(value, dx) in float mode and in array mode, failing on any warning."""
    f = symbackprop.compile(text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grads = f(x_value)
        array_value, array_grads = f(np.array([x_value, x_value]))
    assert array_value.shape == (2,) and array_grads["x"].shape == (2,)
    assert array_value[0] == array_value[1] and array_grads["x"][0] == array_grads["x"][1]
    return [(value, grads["x"]), (float(array_value[0]), float(array_grads["x"][0]))]


@pytest.mark.parametrize(
    ("text", "x_value", "value", "gradient"),
    [
        ("sigmoid(x)", -1000.0, 0.0, 0.0),
        ("sigmoid(x)", 1000.0, 1.0, 0.0),
        ("softplus(x)", 1000.0, 1000.0, 1.0),
        ("softplus(x)", -1000.0, 0.0, 0.0),
        ("log1p(x)", 1e-20, 1e-20, 1.0),
        ("expm1(x)", 1e-20, 1e-20, 1.0),
        ("tanh(x)", 1000.0, 1.0, 0.0),
        ("tanh(x)", -1000.0, -1.0, 0.0),
    ],
)
def test_stable_at_extremes(text: str, x_value: float, value: float, gradient: float) -> None:
    for got_value, got_gradient in _both_modes(text, x_value):
        assert math.isfinite(got_value) and math.isfinite(got_gradient), text
        assert close(got_value, value, rtol=1e-15, atol=1e-300), (text, got_value)
        assert close(got_gradient, gradient, rtol=1e-15, atol=1e-300), (text, got_gradient)


def test_softplus_of_minus_1000_is_tiny_with_zero_gradient() -> None:
    for got_value, got_gradient in _both_modes("softplus(x)", -1000.0):
        assert 0.0 <= got_value < 1e-300
        assert 0.0 <= got_gradient < 1e-300


# ---------------------------------------------------------------------------------------------
# A constant exponent of zero: x**0 is 1 everywhere (0**0 == 1, as the value itself gives), so
# its derivative is 0 everywhere, at x = 0 too.


def test_power_zero_at_zero_float() -> None:
    f = symbackprop.compile("x ** 0")
    assert sympy.diff(x**0, x) == 0
    assert f(1.5) == (1.0, {"x": 0.0})
    assert f.value(0.0) == 1.0
    assert f(0.0) == (1.0, {"x": 0.0})


def test_power_zero_at_zero_array() -> None:
    f = symbackprop.compile("x ** 0")
    value, grads = f(np.array([0.0, 1.5]))
    np.testing.assert_array_equal(value, [1.0, 1.0])
    np.testing.assert_array_equal(grads["x"], [0.0, 0.0])


# ---------------------------------------------------------------------------------------------
# atan2: the quadrants, and the branch cut on the negative x axis.

# (y, x) -> the angle, written from the geometry of the point (x, y)
QUADRANTS = [
    ((1.0, 1.0), math.pi / 4),
    ((1.0, -1.0), 3 * math.pi / 4),
    ((-1.0, -1.0), -3 * math.pi / 4),
    ((-1.0, 1.0), -math.pi / 4),
    ((0.0, -1.0), math.pi),  # on the cut, +0.0 gives π ...
    ((-0.0, -1.0), -math.pi),  # ... and -0.0 gives -π, as math.atan2 and numpy.arctan2 do
    ((2.0, 0.0), math.pi / 2),
]


@pytest.mark.parametrize(("point", "angle"), QUADRANTS)
def test_atan2_quadrants(point: tuple[float, float], angle: float) -> None:
    y_value, x_value = point
    squared = x_value**2 + y_value**2
    gradient = {"y": x_value / squared, "x": -y_value / squared}  # x/(x²+y²), -y/(x²+y²)
    f = symbackprop.compile("atan2(y, x)")
    value, grads = f(y_value, x_value)
    assert close(value, angle, rtol=1e-15) and math.copysign(1, value) == math.copysign(1, angle)
    assert grads == pytest.approx(gradient, rel=1e-15)
    array_value, array_grads = f(np.array([y_value]), np.array([x_value]))
    assert close(array_value[0], angle, rtol=1e-15)
    for name, expected in gradient.items():
        assert close(array_grads[name][0], expected, rtol=1e-15), name
    assert close(symbackprop.compile("arctan2(y, x)").value(y_value, x_value), angle, rtol=1e-15)


def test_atan2_takes_y_first_as_math_and_numpy_do() -> None:
    f = symbackprop.compile("atan2(a, b)")
    assert f.inputs == ("a", "b")
    assert close(f.value(1.0, 0.0), math.pi / 2, rtol=1e-15)  # the point (0, 1): straight up
    assert close(f.value(0.0, 1.0), 0.0)


def test_atan2_kink_is_the_distance_to_the_branch_cut() -> None:
    kink = GATES["atan2"].kink
    assert kink is not None
    assert kink(0.25, -3.0) == 0.25  # above the cut
    assert kink(-0.25, -3.0) == 0.25  # below it
    assert kink(3.0, 4.0) == 5.0  # right of the origin, the cut's end is nearest


# ---------------------------------------------------------------------------------------------
# Accuracy far from the origin, and in the tails, against SymPy: no overflow, no warning.

# (formula, inputs): the naive formulas would overflow (x² at 1e200) or cancel (1 - erf x).
FAR_OUT: list[tuple[str, dict[str, float]]] = [
    ("asinh(x)", {"x": 1e200}),
    ("asinh(x)", {"x": -1e-200}),
    ("acosh(x)", {"x": 1e200}),
    ("cbrt(x)", {"x": -1e300}),
    ("cbrt(x)", {"x": 1e-300}),
    ("erfc(x)", {"x": 10.0}),
    ("erfc(x)", {"x": 26.0}),
    ("erf(x)", {"x": 1e-200}),
    ("hypot(x, y)", {"x": 1e200, "y": -1e200}),
    ("hypot(x, y)", {"x": 3e-200, "y": 4e-200}),
    ("log10(x)", {"x": 1e-300}),
    ("exp2(x)", {"x": -1000.0}),
]


@pytest.mark.parametrize(("text", "point"), FAR_OUT)
def test_accurate_far_out(text: str, point: dict[str, float]) -> None:
    expr = ONE_GATE[text][0]
    expected_value = sympy_float(expr, point)
    expected = {name: sympy_float(derivative(expr, sym(name)), point) for name in point}
    f = symbackprop.compile(text)
    arrays = {name: np.array([value]) for name, value in point.items()}
    array_value, array_grads = f(**arrays)
    for value, grads in [f(**point), (array_value[0], {k: g[0] for k, g in array_grads.items()})]:
        assert close(value, expected_value, rtol=1e-14, atol=0.0), (text, value, expected_value)
        for name, want in expected.items():
            assert close(grads[name], want, rtol=1e-14, atol=0.0), (text, name, grads[name], want)


# ---------------------------------------------------------------------------------------------
# Aliases and the array form of erf.


def test_aliases_name_callable_gates_and_collide_with_nothing() -> None:
    assert ALIASES, "NumPy's names are aliases"
    for alias, name in ALIASES.items():
        assert FUNCTIONS[name].aliases.count(alias) == 1
        assert alias not in GATES and alias not in CONSTANTS
        assert alias in RESERVED


@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_erf_array_form_is_math_per_element(name: str) -> None:
    function = getattr(math, name)
    array_form = GATES[name].array_form
    helper = getattr(runtime, array_form.function)  # type: ignore[union-attr]
    grid = np.linspace(-6.0, 6.0, 97).reshape(1, 97, 1)
    result = helper(grid)
    assert result.shape == grid.shape and result.dtype == np.float64
    assert [float(v) for v in result.ravel()] == [function(float(v)) for v in grid.ravel()]
    single = helper(np.float32(0.5))
    assert isinstance(single, np.float32) and single == np.float32(function(0.5))
    assert helper(np.array([0.5], dtype=np.float32)).dtype == np.float32
    assert math.isnan(helper(np.array(np.nan))) and math.isnan(helper(np.array([np.nan]))[0])


def test_erf_in_float32_array_mode_keeps_float32() -> None:
    x32 = np.array([0.25, -1.5], dtype=np.float32)
    value, grads = symbackprop.compile("erf(x)")(x32)
    assert value.dtype == np.float32 and grads["x"].dtype == np.float32


# ---------------------------------------------------------------------------------------------
# check() finds points inside each domain (acos only on [-1, 1] ...) and away from the kinks and
# jumps (floor's integers, atan2's branch cut), and agrees with SymPy and finite differences.


@pytest.mark.parametrize(
    "text",
    [
        "acos(x)",
        "acosh(x)",
        "atanh(x)*log10(y)",
        "arcsin(x) + atan(x) * log2(y)",
        "atan2(y, x)",
        "hypot(x, y) * sinh(x) / cosh(y)",
        "cbrt(x) + asinh(x) * exp2(x)",
        "erf(x) * erfc(y)",
        "sec(x) + csc(x) * cot(x)",
        "floor(x) * x + ceil(x**2) + sign(x) * y",
    ],
)
def test_check_passes_for_the_elementary_functions(text: str) -> None:
    report = symbackprop.check(text)
    assert report.passed, str(report)
    assert report.points == 20


@pytest.mark.parametrize("mode", ["float", "array"])
def test_power_gradient_by_the_exponent_is_zero_at_base_zero(mode: str) -> None:
    """0^y = 0 for every y > 0, so ∂(x^y)/∂y = 0 there, though x^y·log x reads 0·(−inf).

    JAX and PyTorch give 0 too; elsewhere it is x^y·log x (SymPy's derivative).
    """
    f = symbackprop.compile("x**y")
    convert = (lambda v: np.array([v])) if mode == "array" else float
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no warning for the log 0 that is not taken
        _, gradients = f(convert(0.0), convert(2.5))
        assert float(np.squeeze(gradients["y"])) == 0.0
        assert float(np.squeeze(gradients["x"])) == 0.0
        _, gradients = f(convert(2.0), convert(3.0))
    x, y = sympy.symbols("x y")
    expected = float(sympy.diff(x**y, y).subs({x: 2, y: 3}))
    assert float(np.squeeze(gradients["y"])) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("mode", ["float", "array"])
@pytest.mark.parametrize(
    ("text", "point", "value", "gradients"),
    [
        # 0^0 = 1.  x^0 is 1 for every x, so ∂/∂x is 0 (as for the constant exponent `x**0`);
        # ∂/∂y is taken as 0.  PyTorch and autograd give (0, 0), JAX 0 for ∂/∂y; the rules as
        # written would give 0·0^(−1) and 1·log 0: a domain error in float mode, nan and −inf
        # in array mode.
        ("x**y", (0.0, 0.0), 1.0, (0.0, 0.0)),
        ("pow(x, y)", (0.0, 0.0), 1.0, (0.0, 0.0)),
        # x^x at 0: x·x^(x−1) + x^x·log x, both terms taken as 0 (PyTorch, autograd: 0).
        ("x**x", (0.0,), 1.0, (0.0,)),
        # 0^x at x = 0: JAX, PyTorch and autograd all give 0.
        ("0**x", (0.0,), 1.0, (0.0,)),
        # the exponent 0 with any base: ∂/∂x = 0, ∂/∂y = log x (SymPy: x**y*log(x) at y = 0)
        ("x**y", (2.0, 0.0), 1.0, (0.0, math.log(2.0))),
        ("x**y", (math.inf, 0.0), 1.0, (0.0, math.inf)),
    ],
)
def test_power_gradient_at_zero_exponent(
    mode: str, text: str, point: tuple[float, ...], value: float, gradients: tuple[float, ...]
) -> None:
    f = symbackprop.compile(text)
    convert = (lambda v: np.array([v])) if mode == "array" else float
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got_value, got = f(*[convert(v) for v in point])
    assert float(np.squeeze(got_value)) == value
    assert [float(np.squeeze(got[name])) for name in f.inputs] == list(gradients)


def test_power_gradient_elsewhere_is_still_sympys() -> None:
    """The zero-exponent and zero-base cases change nothing at ordinary points."""
    x, y = sym("x"), sym("y")
    f = symbackprop.compile("x**y")
    for point in [(1.5, 2.5), (0.7, -1.3), (3.0, 0.5), (2.0, 1.0), (0.5, 1e-12)]:
        for mode in ("float", "array"):
            inputs = point if mode == "float" else [np.array([v]) for v in point]
            _, got = f(*inputs)
            at = {"x": point[0], "y": point[1]}
            for name, symbol in (("x", x), ("y", y)):
                want = sympy_float(sympy.diff(x**y, symbol), at)
                assert close(float(np.squeeze(got[name])), want), (point, mode, name)


@pytest.mark.parametrize("text", ["expm1(x)", "exp(x) - 1"])
@pytest.mark.parametrize("x_value", [-30.0, -50.0, -700.0, -1e-10, 3.0])
def test_expm1_gradient_is_accurate_for_negative_x(text: str, x_value: float) -> None:
    """d(e^x − 1)/dx = e^x.  Computed as the output plus one it cancels: at x = −30 that
    would be off by 2e−4 relative (9.35918e−14 instead of 9.35762e−14), worse than the naive
    `exp(x) - 1` that the rewrite to expm1 replaces."""
    want = sympy_float(sympy.exp(sym("x")), {"x": x_value})
    for _, got_gradient in _both_modes(text, x_value):
        assert close(got_gradient, want, rtol=1e-14, atol=0.0), (text, x_value, got_gradient)


def test_xlogy_array_keeps_nan_and_warns_only_where_log_is_taken() -> None:
    x = np.array([0.0, 0.0, 2.0, 0.0])
    y = np.array([0.0, np.nan, 3.0, 5.0])
    result = runtime.xlogy_array(x, y)
    np.testing.assert_array_equal(result, [0.0, np.nan, 2.0 * math.log(3.0), 0.0])
    with pytest.warns(RuntimeWarning):
        runtime.xlogy_array(np.array([1.0]), np.array([-1.0]))
