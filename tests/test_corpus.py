"""A corpus of formulas, from the lecture's examples to trickier programs, against the math.

Each formula's SymPy expression is written by hand in Python (never parsed from our text), and
value and every gradient are checked at seeded random points against SymPy and against centered
finite differences, in float mode and in array mode.  The lecture's own numbers are checked
exactly; then broadcasting, gradient subsets (`wrt`) and common-subexpression sharing.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sympy

import symbackprop

# No formula here should provoke a warning (overflow, invalid value ...): make any warning fail.
pytestmark = pytest.mark.filterwarnings("error")

RTOL = 1e-6  # finite differences
EXACT_RTOL = 1e-10  # SymPy references, computed with 30 significant digits


class _Symbols:
    """`s.x` is the real SymPy symbol called x."""

    def __getattr__(self, name: str) -> sympy.Symbol:
        return sympy.Symbol(name, real=True)


s = _Symbols()
exp, log, sqrt, sin, cos, tan, tanh = (
    sympy.exp,
    sympy.log,
    sympy.sqrt,
    sympy.sin,
    sympy.cos,
    sympy.tan,
    sympy.tanh,
)
Max, Min, Abs, pi, E = sympy.Max, sympy.Min, sympy.Abs, sympy.pi, sympy.E


def sigmoid(t: Any) -> Any:
    return 1 / (1 + exp(-t))


def softplus(t: Any) -> Any:
    return log(1 + exp(t))


def relu(t: Any) -> Any:
    return Max(t, 0)


POSITIVE = (0.3, 3.0)
DEFAULT = (-2.0, 2.0)

# (text, SymPy expression built by hand, domain per input; unlisted inputs use DEFAULT)
CORPUS: list[tuple[str, Callable[[], Any], dict[str, tuple[float, float]]]] = [
    # The lecture's examples.
    ("(x+y)*z", lambda: (s.x + s.y) * s.z, {}),
    ("q = x + y\nf = q * z\nf", lambda: (s.x + s.y) * s.z, {}),
    ("x*y", lambda: s.x * s.y, {}),
    (
        "1/(1+exp(-(w0*x0+w1*x1+w2)))",
        lambda: 1 / (1 + exp(-(s.w0 * s.x0 + s.w1 * s.x1 + s.w2))),
        {},
    ),
    (
        "dot = w0*x0 + w1*x1 + w2\nf = 1/(1+exp(-dot))\nf",
        lambda: 1 / (1 + exp(-(s.w0 * s.x0 + s.w1 * s.x1 + s.w2))),
        {},
    ),
    (
        "sigmoid(w0*x0 + w1*x1 + w2)",
        lambda: sigmoid(s.w0 * s.x0 + s.w1 * s.x1 + s.w2),
        {},
    ),
    (
        "max(0, s_banana - s_apple + 1) + max(0, s_pear - s_apple + 1)",
        lambda: Max(0, s.s_banana - s.s_apple + 1) + Max(0, s.s_pear - s.s_apple + 1),
        {},
    ),
    # Fan-out: gradients add at branches.
    (
        "a = x*y\nb = a + x\nc = a*b; c + a",
        lambda: (s.x * s.y) * (s.x * s.y + s.x) + s.x * s.y,
        {},
    ),
    ("u = x*y; v = u*u; w = v*u; w - u", lambda: (s.x * s.y) ** 3 - s.x * s.y, {}),
    ("x*x*x + x", lambda: s.x**3 + s.x, {}),
    ("a = exp(x)\nb = a*a\nc = b/a\nc", lambda: exp(s.x), {}),
    # Repeated subexpressions.
    ("exp(x) + exp(x)", lambda: 2 * exp(s.x), {}),
    ("(x+y)*(x+y)", lambda: (s.x + s.y) ** 2, {}),
    ("sin(x)*sin(x) + cos(x)*cos(x)", lambda: sin(s.x) ** 2 + cos(s.x) ** 2, {}),
    ("log(1 + exp(x)) - softplus(x)", lambda: log(1 + exp(s.x)) - softplus(s.x), {}),
    # Powers.
    ("x**2 + y**2", lambda: s.x**2 + s.y**2, {}),
    ("(x*y + 1)**3", lambda: (s.x * s.y + 1) ** 3, {}),
    ("x**y", lambda: s.x**s.y, {"x": POSITIVE}),
    ("2**x + x^3", lambda: 2**s.x + s.x**3, {}),
    ("x**0.5 + x**-1", lambda: sqrt(s.x) + 1 / s.x, {"x": POSITIVE}),
    ("-x**2", lambda: -(s.x**2), {}),
    ("2**3**x", lambda: 2 ** (3**s.x), {"x": (-1.0, 1.0)}),
    ("pow(x, 2) * pow(2, y)", lambda: s.x**2 * 2**s.y, {}),
    ("sqrt(x*x + y*y)", lambda: sqrt(s.x**2 + s.y**2), {"x": POSITIVE}),
    # Constants.
    ("pi*r**2", lambda: pi * s.r**2, {}),
    ("e**x", lambda: E**s.x, {}),
    ("x*e + pi*y - e", lambda: s.x * E + pi * s.y - E, {}),
    # Unary minus chains.
    ("--x", lambda: s.x, {}),
    ("- - -x + y", lambda: -s.x + s.y, {}),
    ("-(-(x*y)) - -z", lambda: s.x * s.y + s.z, {}),
    ("x - y - z", lambda: s.x - s.y - s.z, {}),
    ("x/y/z", lambda: s.x / s.y / s.z, {"y": POSITIVE, "z": POSITIVE}),
    # max and min with three or more arguments, and other non-smooth gates.
    ("max(a, b, c, d)", lambda: Max(s.a, s.b, s.c, s.d), {}),
    ("min(a, b, c, d)", lambda: Min(s.a, s.b, s.c, s.d), {}),
    ("max(a, min(b, c), d) * a", lambda: Max(s.a, Min(s.b, s.c), s.d) * s.a, {}),
    ("abs(x - y) + abs(y - z)", lambda: Abs(s.x - s.y) + Abs(s.y - s.z), {}),
    # Nested functions and small networks.
    ("exp(sin(cos(x)))", lambda: exp(sin(cos(s.x))), {}),
    ("log(sigmoid(x))", lambda: log(sigmoid(s.x)), {}),
    ("softplus(-y*t)", lambda: softplus(-s.y * s.t), {}),
    ("tanh(w*x + b)*v", lambda: tanh(s.w * s.x + s.b) * s.v, {}),
    ("tan(x)/x", lambda: tan(s.x) / s.x, {"x": (0.2, 1.2)}),
    ("log1p(x*x) + expm1(x)/x", lambda: log(1 + s.x**2) + (exp(s.x) - 1) / s.x, {"x": POSITIVE}),
    (
        "h = relu(w1*x + b1)\no = w2*h + b2\n(o - t)**2",
        lambda: (s.w2 * relu(s.w1 * s.x + s.b1) + s.b2 - s.t) ** 2,
        {},
    ),
    # Comments, line continuation inside parentheses, and names Python would not accept.
    ("# the lecture\nq = x + y  # add gate\nq * z", lambda: (s.x + s.y) * s.z, {}),
    ("(x\n + y) * (x\n - y)", lambda: (s.x + s.y) * (s.x - s.y), {}),
    ("lambda * np + None", lambda: s.__getattr__("lambda") * s.np + s.__getattr__("None"), {}),
    ("dx = x*2\ndx + x", lambda: 3 * s.x, {}),
]


def sympy_float(expr: Any, point: dict[str, float]) -> float:
    """`expr` evaluated at `point` (input name -> float) with 30 significant digits."""
    substituted = sympy.sympify(expr).subs(
        {sympy.Symbol(k, real=True): sympy.Float(v, 30) for k, v in point.items()}
    )
    return float(sympy.N(substituted, 30))


def close(actual: float, expected: float, rtol: float = EXACT_RTOL, atol: float = 1e-12) -> bool:
    return math.isclose(float(actual), float(expected), rel_tol=rtol, abs_tol=atol)


def _finite_difference(function: Callable[..., Any], point: dict[str, Any], name: str) -> Any:
    """Centered difference of `function` in input `name` (elementwise for arrays)."""
    h = 1e-6 * np.maximum(1.0, np.abs(point[name]))
    plus = dict(point, **{name: point[name] + h})
    minus = dict(point, **{name: point[name] - h})
    return (function(**plus) - function(**minus)) / (2 * h)


def _random_points(
    text: str, names: list[str], domain: dict[str, tuple[float, float]]
) -> list[dict[str, float]]:
    rng = np.random.default_rng(zlib.crc32(text.encode()))
    return [
        {name: float(rng.uniform(*domain.get(name, DEFAULT))) for name in names} for _ in range(3)
    ]


@pytest.mark.parametrize(
    ("text", "build", "domain"), CORPUS, ids=[text.replace("\n", "; ") for text, _, _ in CORPUS]
)
def test_corpus_formula(
    text: str, build: Callable[[], Any], domain: dict[str, tuple[float, float]]
) -> None:
    expr = build()
    f = symbackprop.compile(text)
    names = list(f.inputs)
    assert {str(symbol) for symbol in expr.free_symbols} <= set(names)
    assert set(domain) <= set(names)
    assert f.wrt == f.inputs
    points = _random_points(text, names, domain)
    expected_value = [sympy_float(expr, point) for point in points]
    expected_grad = {
        name: [
            sympy_float(sympy.diff(expr, sympy.Symbol(name, real=True)), point) for point in points
        ]
        for name in names
    }

    # float mode
    for i, point in enumerate(points):
        value, grads = f(**point)
        assert type(value) is float
        assert close(value, expected_value[i]), (point, value, expected_value[i])
        assert f.value(**point) == value
        assert list(grads) == names
        for name in names:
            want = expected_grad[name][i]
            assert close(grads[name], want), (point, name, grads[name], want)
            numeric = _finite_difference(f.value, point, name)
            assert close(grads[name], numeric, RTOL, RTOL), (point, name, grads[name], numeric)

    # array mode: every input a 1-D array of the three points' values
    arrays = {name: np.array([point[name] for point in points]) for name in names}
    value, grads = f(**arrays)
    assert isinstance(value, np.ndarray) and value.shape == (3,)
    np.testing.assert_allclose(value, expected_value, rtol=EXACT_RTOL, atol=1e-12)
    np.testing.assert_array_equal(f.value(**arrays), value)
    assert list(grads) == names
    for name in names:
        assert isinstance(grads[name], np.ndarray) and grads[name].shape == (3,), name
        np.testing.assert_allclose(
            grads[name], expected_grad[name], rtol=EXACT_RTOL, atol=1e-12, err_msg=name
        )
        numeric = _finite_difference(f.value, arrays, name)
        np.testing.assert_allclose(grads[name], numeric, rtol=RTOL, atol=RTOL, err_msg=name)


def test_corpus_size() -> None:
    assert len(CORPUS) >= 40
    assert len({text for text, _, _ in CORPUS}) == len(CORPUS)


# ---------------------------------------------------------------------------------------------
# The lecture's exact numbers, in both modes.


def _both_modes(text: str, point: dict[str, float]) -> list[tuple[float, dict[str, float]]]:
    """(value, gradients) from float mode and from array mode (0-d arrays), as floats."""
    f = symbackprop.compile(text)
    results = [f(**point)]
    value, grads = f(**{name: np.array(v) for name, v in point.items()})
    assert np.shape(value) == () and all(np.shape(g) == () for g in grads.values())
    results.append((float(value), {name: float(g) for name, g in grads.items()}))
    value, grads = f(**{name: np.array([v, v]) for name, v in point.items()})
    assert np.shape(value) == (2,) and all(np.shape(g) == (2,) for g in grads.values())
    results.append((float(value[1]), {name: float(g[1]) for name, g in grads.items()}))
    return results


def test_lecture_add_multiply() -> None:
    for value, grads in _both_modes("(x+y)*z", {"x": -2.0, "y": 5.0, "z": -4.0}):
        assert value == -12.0
        assert grads == {"x": -4.0, "y": -4.0, "z": 3.0}


NEURON_POINT = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}
NEURON_GRADS = {"w0": -0.1966, "x0": 0.3932, "w1": -0.3932, "x1": -0.5898, "w2": 0.1966}


@pytest.mark.parametrize(
    "text",
    [
        "1/(1+exp(-(w0*x0+w1*x1+w2)))",
        "dot = w0*x0 + w1*x1 + w2\nf = 1/(1+exp(-dot))\nf",
        "sigmoid(w0*x0 + w1*x1 + w2)",
    ],
)
def test_lecture_sigmoid_neuron(text: str) -> None:
    for value, grads in _both_modes(text, NEURON_POINT):
        assert round(value, 4) == 0.7311
        assert list(grads) == list(NEURON_GRADS)
        assert {name: round(g, 4) for name, g in grads.items()} == NEURON_GRADS


def test_lecture_sigmoid_neuron_positional_integers() -> None:
    value, grads = symbackprop.compile("1/(1+exp(-(w0*x0+w1*x1+w2)))")(2, -1, -3, -2, -3)
    assert round(value, 4) == 0.7311
    assert {name: round(g, 4) for name, g in grads.items()} == NEURON_GRADS


def test_lecture_svm_apple_column() -> None:
    text = "max(0, s_banana - s_apple + 1) + max(0, s_pear - s_apple + 1)"
    point = {"s_apple": 1.87, "s_banana": 1.3, "s_pear": 0.56}
    for value, grads in _both_modes(text, point):
        assert value == pytest.approx(0.43, abs=1e-12)  # not the slide's 0.33
        assert grads == {"s_banana": 1.0, "s_apple": -1.0, "s_pear": 0.0}


def test_lecture_svm_banana_column() -> None:
    text = "max(0, s_apple - s_banana + 1) + max(0, s_pear - s_banana + 1)"
    point = {"s_apple": -0.4, "s_banana": 1.1, "s_pear": 1.35}
    for value, grads in _both_modes(text, point):
        assert value == pytest.approx(1.25, abs=1e-12)
        assert grads == {"s_apple": 0.0, "s_banana": -1.0, "s_pear": 1.0}


def test_lecture_svm_pear_column() -> None:
    text = "max(0, s_apple - s_pear + 1) + max(0, s_banana - s_pear + 1)"
    point = {"s_apple": 0.1, "s_banana": -0.3, "s_pear": 1.1}
    for value, _grads in _both_modes(text, point):
        assert abs(value) < 1e-12  # 0.1 - 1.1 + 1 is 0 up to rounding


# ---------------------------------------------------------------------------------------------
# Broadcasting in array mode: the gradient of the sum of the output's elements.


@pytest.mark.parametrize("weight", [2.0, np.array(2.0)], ids=["python-float", "0-d-array"])
def test_scalar_weight_times_vector_of_samples(weight: Any) -> None:
    x = np.arange(5.0)
    value, grads = symbackprop.compile("w*x")(w=weight, x=x)
    np.testing.assert_array_equal(value, 2.0 * x)
    assert np.shape(grads["w"]) == ()
    assert float(grads["w"]) == x.sum()
    assert grads["x"].shape == (5,)
    np.testing.assert_array_equal(grads["x"], 2.0 * np.ones(5))


def test_broadcast_column_times_row() -> None:
    rng = np.random.default_rng(7)
    w = rng.normal(size=(3, 1))
    x = rng.normal(size=(1, 4))
    value, grads = symbackprop.compile("w*x")(w=w, x=x)
    np.testing.assert_allclose(value, w * x)
    assert grads["w"].shape == (3, 1) and grads["x"].shape == (1, 4)
    # d/dw[i] sum_ij w[i] x[j] = sum_j x[j], and likewise for x
    np.testing.assert_allclose(grads["w"], np.full((3, 1), x.sum()))
    np.testing.assert_allclose(grads["x"], np.full((1, 4), w.sum()))


def test_broadcast_nonlinear_column_and_row() -> None:
    rng = np.random.default_rng(8)
    a = rng.normal(size=(3, 1))
    b = rng.normal(size=(1, 4))
    value, grads = symbackprop.compile("sin(a*b) + a")(a=a, b=b)
    np.testing.assert_allclose(value, np.sin(a * b) + a)
    np.testing.assert_allclose(grads["a"], (np.cos(a * b) * b + 1).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(grads["b"], (np.cos(a * b) * a).sum(axis=0, keepdims=True))


def test_constant_gradient_of_broadcast_scalar_is_summed() -> None:
    value, grads = symbackprop.compile("x + y")(x=np.array([1.0, 2.0, 3.0]), y=2.0)
    np.testing.assert_array_equal(value, [3.0, 4.0, 5.0])
    np.testing.assert_array_equal(grads["x"], np.ones(3))
    assert np.shape(grads["y"]) == ()
    assert float(grads["y"]) == 3.0


# ---------------------------------------------------------------------------------------------
# Gradient subsets.


def _backward_lines(source: str) -> list[str]:
    """The statements of value_and_grad's backward pass (no comments, no return)."""
    body = source.split("def value_and_grad(")[1].split("\ndef value(")[0]
    backward = body.split("# backward pass")[1] if "# backward pass" in body else ""
    return [
        line.strip()
        for line in backward.splitlines()
        if line.strip() and not line.strip().startswith(("#", "return"))
    ]


def test_wrt_subset_returns_only_requested() -> None:
    f = symbackprop.compile("(x+y)*z", wrt=["x"])
    assert f.wrt == ("x",)
    assert f.inputs == ("x", "y", "z")
    value, grads = f(x=-2.0, y=5.0, z=-4.0)
    assert value == -12.0
    assert grads == {"x": -4.0}
    value, grads = f(x=np.array([-2.0]), y=np.array([5.0]), z=np.array([-4.0]))
    assert list(grads) == ["x"]
    np.testing.assert_array_equal(grads["x"], [-4.0])


def test_wrt_order_follows_inputs() -> None:
    f = symbackprop.compile("(x+y)*z", wrt=["z", "x"])
    assert f.wrt == ("x", "z")
    assert f(-2.0, 5.0, -4.0)[1] == {"x": -4.0, "z": 3.0}


def test_wrt_subset_computes_no_unrequested_gradient() -> None:
    text = "(x+y)*z"
    full = symbackprop.compile(text)
    only_z = symbackprop.compile(text, wrt=["z"])
    assert only_z(-2.0, 5.0, -4.0) == (-12.0, {"z": 3.0})
    for mode in ("float", "array"):
        source = only_z.source_for(mode)
        names = set(re.findall(r"\b[A-Za-z_]\w*\b", source.split("\ndef value(")[0]))
        assert "dx" not in names and "dy" not in names, source
        assert not any(name.startswith("dadd") for name in names), source
        assert len(_backward_lines(source)) < len(_backward_lines(full.source_for(mode)))
    assert only_z.source == only_z.source_for("float")


def test_wrt_subset_through_a_long_chain() -> None:
    text = "a = exp(sin(x) * y)\nb = log1p(a * a)\nb * z"
    full = symbackprop.compile(text)
    only_z = symbackprop.compile(text, wrt=["z"])
    assert len(_backward_lines(only_z.source)) == 1
    assert len(_backward_lines(full.source)) > 5


def test_gradient_of_an_input_the_output_ignores_is_zero() -> None:
    f = symbackprop.compile("a = x*2\ny*3")
    assert f.inputs == ("x", "y")
    assert f(1.0, 2.0) == (6.0, {"x": 0.0, "y": 3.0})
    _value, grads = f(np.arange(3.0), np.arange(3.0))
    np.testing.assert_array_equal(grads["x"], np.zeros(3))
    np.testing.assert_array_equal(grads["y"], np.full(3, 3.0))


def test_gradient_of_an_ignored_input_keeps_its_own_shape() -> None:
    # The value only involves y, so x may have any shape; its gradient is zeros of that shape.
    f = symbackprop.compile("a = x*2\ny*3")
    np.testing.assert_array_equal(f.value(np.ones(3), np.ones(4)), np.full(4, 3.0))
    _value, grads = f(np.ones(3), np.ones(4))
    np.testing.assert_array_equal(grads["x"], np.zeros(3))
    np.testing.assert_array_equal(grads["y"], np.full(4, 3.0))


# ---------------------------------------------------------------------------------------------
# Common subexpressions are computed once.


def _code(source: str) -> str:
    """The source without comment lines (the header and the backward pass quote the formula)."""
    return "\n".join(line for line in source.splitlines() if not line.strip().startswith("#"))


def _value_function(source: str) -> str:
    return source.split("\ndef value(")[1]


def _forward_block(source: str) -> str:
    body = source.split("def value_and_grad(")[1].split("\ndef value(")[0]
    return body.split("# forward pass")[1].split("# backward pass")[0]


@pytest.mark.parametrize("mode", ["float", "array"])
def test_cse_exp_computed_once(mode: str) -> None:
    f = symbackprop.compile("exp(x) + exp(x)")
    source = f.source_for(mode)
    assert _value_function(source).count("exp(") == 1, source
    assert _forward_block(source).count("exp(") == 1, source
    # one in value_and_grad, one in value: the backward pass reuses the forward value
    assert _code(source).count("exp(") == 2, source
    assert f(0.5)[1]["x"] == pytest.approx(2 * math.exp(0.5), rel=1e-15)


@pytest.mark.parametrize("mode", ["float", "array"])
def test_cse_sum_computed_once(mode: str) -> None:
    source = symbackprop.compile("(x+y)*(x+y)").source_for(mode)
    lines = [line.strip() for line in source.splitlines()]
    sums = [line for line in lines if re.fullmatch(r"\w+ = x \+ y", line)]
    assert len(sums) == 2, source  # one in value_and_grad, one in value
    assert _value_function(source).count("x + y") == 1, source


def test_cse_across_bindings() -> None:
    source = symbackprop.compile("a = exp(x)\nb = exp(x)\na*b").source
    assert _value_function(source).count("exp(") == 1, source
