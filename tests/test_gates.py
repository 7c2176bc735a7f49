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
from symbackprop.gates import FUNCTIONS, GATES, GateNamespace

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
    "tanh": [(1.3,), (-2.5,), (0.0,)],
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
        derivative = sympy.diff(out, symbol)
        for values in GATE_POINTS[name]:
            point = {str(s): v for s, v in zip(symbols, values, strict=True)}
            got = sympy_float(local, point)
            want = sympy_float(derivative, point)
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
    "ge": [(1.0, 2.0), (2.0, 1.0), (1.5, 1.5)],
    "gt": [(1.0, 2.0), (2.0, 1.0), (1.5, 1.5)],
    "eq": [(1.0, 2.0), (1.5, 1.5)],
    "where": [(True, 2.0, 3.0), (False, 2.0, 3.0)],
    "sign": [(-2.5,), (0.0,), (3.0,)],
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
    "tanh(x)": (sympy.tanh(x), X3),
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
        name: [sympy_float(sympy.diff(expr, sym(name)), point) for point in points]
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
