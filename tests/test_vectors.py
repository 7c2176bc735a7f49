"""The vector language: matrix products, transposes, reductions, softmax, pick and broadcasting.

Every expected number here comes from the math written in this file: a loop implementation, a
formula (dW = 2·q·xᵀ), an explicit NumPy reference of the forward pass, or centered finite
differences of such a reference — never from symbackprop itself.
"""

from __future__ import annotations

import re
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import symbackprop as sb
from symbackprop.errors import ShapeError, SymbackpropError

# No test here should provoke a warning (overflow, invalid value ...): make any warning fail.
pytestmark = pytest.mark.filterwarnings("error")

RTOL = 1e-6  # centered finite differences
ATOL = 1e-8  # for gradient entries that are (nearly) zero
STEP = 1e-6  # finite-difference step

Inputs = dict[str, Any]


def numerical_gradient(fun: Callable[..., Any], inputs: Inputs, name: str) -> np.ndarray:
    """Centered finite differences of the scalar `fun(**inputs)` with respect to `inputs[name]`."""
    point = np.array(inputs[name], dtype=np.float64)
    gradient = np.zeros_like(point)
    for index in np.ndindex(point.shape):
        plus, minus = point.copy(), point.copy()
        plus[index] += STEP
        minus[index] -= STEP
        forward = float(fun(**{**inputs, name: plus}))
        backward = float(fun(**{**inputs, name: minus}))
        gradient[index] = (forward - backward) / (2 * STEP)
    return gradient


def assert_gradients_match_finite_differences(
    grads: dict[str, Any], scalar: Callable[..., Any], inputs: Inputs, names: tuple[str, ...]
) -> None:
    assert set(grads) == set(names)
    for name in names:
        expected = numerical_gradient(scalar, inputs, name)
        assert np.shape(grads[name]) == np.shape(inputs[name]), name
        np.testing.assert_allclose(grads[name], expected, rtol=RTOL, atol=ATOL, err_msg=name)


def normal(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.normal(size=shape)


def distinct(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """Values at least 0.25 apart, in random order: no ties, so max/min are differentiable."""
    size = int(np.prod(shape, dtype=np.int64))
    return (rng.permutation(size) * 0.25 - size * 0.1 + rng.uniform(0, 0.01, size)).reshape(shape)


def positive(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.uniform(0.5, 2.0, size=shape)


# ---------------------------------------------------------------------------------------------
# The lecture's f(x, W) = ‖W·x‖².


@pytest.mark.parametrize("text", ["q = W @ x\nsum(q * q)", "norm(W @ x) ** 2"])
def test_squared_norm_of_matrix_vector_product(text: str) -> None:
    rng = np.random.default_rng(4)
    W, x = rng.normal(size=(5, 4)), rng.normal(size=4)
    q = np.array([sum(W[i, j] * x[j] for j in range(4)) for i in range(5)])
    value, grads = sb.compile(text)(W=W, x=x)
    np.testing.assert_allclose(value, np.sum(q * q), rtol=1e-12)
    np.testing.assert_allclose(grads["W"], 2 * np.outer(q, x), rtol=1e-12)  # dW = 2 q xᵀ
    np.testing.assert_allclose(grads["x"], 2 * W.T @ q, rtol=1e-12)  # dx = 2 Wᵀ q
    assert grads["W"].shape == (5, 4) and grads["x"].shape == (4,)


# ---------------------------------------------------------------------------------------------
# CS231n's losses against loop implementations.

SVM = (
    "S = X @ W\n"
    "correct = pick(S, y)\n"
    "margins = max(0, (S.T - correct).T + 1)\n"
    "mean(sum(margins, axis=1) - 1) + lam * sum(W * W)"
)

SOFTMAX = "S = X @ W\nmean(logsumexp(S, axis=1) - pick(S, y))"


def svm_loss_loops(
    X: np.ndarray, W: np.ndarray, y: np.ndarray, lam: float
) -> tuple[float, np.ndarray, np.ndarray, float]:
    """The multiclass SVM loss with L2 regularization and its gradients, by explicit loops."""
    N, D = X.shape
    C = W.shape[1]
    loss, dX, dW = 0.0, np.zeros_like(X), np.zeros_like(W)
    for i in range(N):
        scores = [sum(X[i, d] * W[d, j] for d in range(D)) for j in range(C)]
        for j in range(C):
            if j == y[i]:
                continue
            margin = scores[j] - scores[y[i]] + 1
            if margin > 0:
                loss += margin
                for d in range(D):
                    dW[d, j] += X[i, d]
                    dW[d, y[i]] -= X[i, d]
                    dX[i, d] += W[d, j] - W[d, y[i]]
    regularizer = sum(W[d, j] ** 2 for d in range(D) for j in range(C))
    loss = loss / N + lam * regularizer
    return loss, dX / N, dW / N + 2 * lam * W, regularizer


def svm_margins(X: np.ndarray, W: np.ndarray, y: np.ndarray) -> list[float]:
    return [
        float(X[i] @ W[:, j] - X[i] @ W[:, y[i]] + 1)
        for i in range(len(y))
        for j in range(W.shape[1])
        if j != y[i]
    ]


def test_svm_loss_matches_the_loop_implementation() -> None:
    rng = np.random.default_rng(4)
    X, W = rng.normal(size=(6, 4)), rng.normal(size=(4, 3))
    y = rng.integers(0, 3, size=6)
    lam = 0.1
    margins = svm_margins(X, W, y)
    # Away from the hinge's kinks, and with both active and inactive margins.
    assert min(abs(m) for m in margins) > 0.1
    assert any(m > 0 for m in margins) and any(m < 0 for m in margins)

    f = sb.compile(SVM)
    assert f.inputs == ("X", "W", "y", "lam")
    assert f.wrt == ("X", "W", "lam")  # the labels get no gradient
    value, grads = f(X=X, W=W, y=y, lam=lam)
    loss, dX, dW, dlam = svm_loss_loops(X, W, y, lam)
    np.testing.assert_allclose(value, loss, rtol=1e-12)
    np.testing.assert_allclose(grads["X"], dX, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grads["W"], dW, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grads["lam"], dlam, rtol=1e-12)
    # And the loop's loss against its own finite differences.
    for name in ("X", "W"):
        numeric = numerical_gradient(
            lambda **kw: svm_loss_loops(**kw)[0], {"X": X, "W": W, "y": y, "lam": lam}, name
        )
        np.testing.assert_allclose(grads[name], numeric, rtol=RTOL, atol=ATOL)


def softmax_loss_loops(
    X: np.ndarray, W: np.ndarray, y: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """The softmax cross-entropy loss and its gradients, by explicit loops."""
    N, D = X.shape
    C = W.shape[1]
    loss, dX, dW = 0.0, np.zeros_like(X), np.zeros_like(W)
    for i in range(N):
        scores = [sum(X[i, d] * W[d, j] for d in range(D)) for j in range(C)]
        largest = max(scores)
        total = sum(np.exp(s - largest) for s in scores)
        loss += largest + np.log(total) - scores[y[i]]
        for j in range(C):
            dscore = np.exp(scores[j] - largest) / total - (1.0 if j == y[i] else 0.0)
            for d in range(D):
                dW[d, j] += X[i, d] * dscore
                dX[i, d] += W[d, j] * dscore
    return loss / N, dX / N, dW / N


def test_softmax_loss_matches_the_loop_implementation() -> None:
    rng = np.random.default_rng(8)
    X, W = rng.normal(size=(5, 4)), rng.normal(size=(4, 3))
    y = rng.integers(0, 3, size=5)
    f = sb.compile(SOFTMAX)
    assert f.wrt == ("X", "W")
    value, grads = f(X, W, y)
    loss, dX, dW = softmax_loss_loops(X, W, y)
    np.testing.assert_allclose(value, loss, rtol=1e-12)
    np.testing.assert_allclose(grads["X"], dX, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(grads["W"], dW, rtol=1e-10, atol=1e-15)
    numeric = numerical_gradient(
        lambda **kw: softmax_loss_loops(**kw)[0], {"X": X, "W": W, "y": y}, "W"
    )
    np.testing.assert_allclose(grads["W"], numeric, rtol=RTOL, atol=ATOL)


def test_softmax_loss_is_stable_for_huge_scores() -> None:
    X = np.array([[1000.0, 0.0], [0.0, -1000.0]])
    W = np.eye(2)
    y = np.array([0, 0])
    value, grads = sb.compile(SOFTMAX)(X, W, y)
    # Row 0: scores (1000, 0), label 0: loss log(1 + e^-1000) ≈ 0.  Row 1: scores (0, -1000),
    # label 0: loss ≈ 0 too.
    assert np.isfinite(value) and abs(value) < 1e-300
    assert all(np.all(np.isfinite(g)) for g in grads.values())


# ---------------------------------------------------------------------------------------------
# Every array gate against finite differences of a NumPy reference written here.

Make = Callable[[np.random.Generator], Inputs]


def shaped(**shapes: tuple[int, ...]) -> Make:
    return lambda rng: {name: rng.normal(size=shape) for name, shape in shapes.items()}


def case(text: str, make: Make, reference: Callable[..., Any], id: str) -> Any:
    return pytest.param(text, make, reference, id=id)


def rows_of_labels(rng: np.random.Generator) -> Inputs:
    return {"S": rng.normal(size=(4, 3)), "y": np.array([2, 0, 1, 2])}


def _softmax(x: np.ndarray, axis: int | None = None) -> np.ndarray:
    exps = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return exps / np.sum(exps, axis=axis, keepdims=True)


def _logsumexp(x: np.ndarray, axis: int | None = None) -> np.ndarray:
    return np.log(np.sum(np.exp(x), axis=axis))


C34 = np.random.default_rng(99).normal(size=(3, 4))  # a fixed downstream weight


def _reductions() -> list[Any]:
    cases = []
    for gate, reference, make in [
        ("sum", np.sum, shaped(x=(3, 4))),
        ("mean", np.mean, shaped(x=(3, 4))),
        ("max", np.max, lambda rng: {"x": distinct(rng, 3, 4)}),
        ("min", np.min, lambda rng: {"x": distinct(rng, 3, 4)}),
        ("logsumexp", _logsumexp, shaped(x=(3, 4))),
    ]:
        for axis in (None, 0, 1, -1):
            text = f"{gate}(x)" if axis is None else f"{gate}(x, axis={axis})"
            cases.append(
                case(text, make, lambda x, r=reference, a=axis: r(x, axis=a), f"{gate}-{axis}")
            )
    return cases


GATE_CASES = [
    # The matrix product in all four combinations.
    case("A @ B", shaped(A=(3, 4), B=(4, 2)), lambda A, B: A @ B, "matmul-matrix-matrix"),
    case("W @ x", shaped(W=(3, 4), x=(4,)), lambda W, x: W @ x, "matmul-matrix-vector"),
    case("x @ W", shaped(x=(3,), W=(3, 4)), lambda x, W: x @ W, "matmul-vector-matrix"),
    case("a @ b", shaped(a=(4,), b=(4,)), lambda a, b: a @ b, "matmul-vector-vector"),
    case("x.T", shaped(x=(3, 4)), lambda x: x.T, "transpose"),
    case("x.T", shaped(x=(4,)), lambda x: x.T, "transpose-vector"),
    case("A.T @ B", shaped(A=(4, 3), B=(4, 2)), lambda A, B: A.T @ B, "transpose-then-matmul"),
    *_reductions(),
    case("sum(x, axis=1)", shaped(x=(2, 3, 4)), lambda x: np.sum(x, axis=1), "sum-3d-axis1"),
    case("mean(x, axis=0)", shaped(x=(2, 3, 4)), lambda x: np.mean(x, axis=0), "mean-3d-axis0"),
    case("norm(x)", shaped(x=(5,)), lambda x: np.sqrt(np.sum(x**2)), "norm-vector"),
    case("norm(x)", shaped(x=(3, 4)), lambda x: np.sqrt(np.sum(x**2)), "norm-matrix"),
    case("vdot(a, b)", shaped(a=(4,), b=(4,)), lambda a, b: np.sum(a * b), "vdot-vector"),
    case("vdot(a, b)", shaped(a=(3, 4), b=(3, 4)), lambda a, b: np.sum(a * b), "vdot-matrix"),
    case("vdot(a, b)", shaped(a=(3, 4), b=(4,)), lambda a, b: np.sum(a * b), "vdot-broadcast"),
    case("softmax(x)", shaped(x=(5,)), _softmax, "softmax-vector"),
    case("softmax(x)", shaped(x=(3, 4)), _softmax, "softmax-matrix-all"),
    case("softmax(x, axis=0)", shaped(x=(3, 4)), lambda x: _softmax(x, 0), "softmax-axis0"),
    case("softmax(x, axis=1)", shaped(x=(3, 4)), lambda x: _softmax(x, 1), "softmax-axis1"),
    case(
        "vdot(softmax(x, axis=1), c)",
        shaped(x=(3, 4), c=(3, 4)),
        lambda x, c: np.sum(_softmax(x, 1) * c),
        "softmax-axis1-downstream",
    ),
    case(
        "vdot(softmax(x), c)",
        shaped(x=(3, 4), c=(3, 4)),
        lambda x, c: np.sum(_softmax(x) * c),
        "softmax-all-downstream",
    ),
    case(
        "vdot(softmax(x, axis=0), c)",
        shaped(x=(3, 4), c=(3, 4)),
        lambda x, c: np.sum(_softmax(x, 0) * c),
        "softmax-axis0-downstream",
    ),
    case(
        "pick(S, y)", rows_of_labels, lambda S, y: np.array([S[i, y[i]] for i in range(4)]), "pick"
    ),
    case(
        "sum(pick(S, y) ** 2)",
        rows_of_labels,
        lambda S, y: sum(S[i, y[i]] ** 2 for i in range(4)),
        "pick-downstream",
    ),
    case(
        "max(a, b)",
        lambda rng: dict(zip("ab", distinct(rng, 2, 3, 4), strict=True)),
        lambda a, b: np.maximum(a, b),
        "elementwise-max",
    ),
    case(
        "min(a, b, c)",
        lambda rng: dict(zip("abc", distinct(rng, 3, 5), strict=True)),
        lambda a, b, c: np.minimum(np.minimum(a, b), c),
        "elementwise-min",
    ),
    case(
        "log(x) @ W",
        lambda rng: {"x": positive(rng, 3), "W": normal(rng, 3, 2)},
        lambda x, W: np.log(x) @ W,
        "elementwise-then-matmul",
    ),
]


@pytest.mark.parametrize(("text", "make", "reference"), GATE_CASES)
def test_array_gate_against_finite_differences(
    text: str, make: Make, reference: Callable[..., Any]
) -> None:
    rng = np.random.default_rng(2024)
    inputs = make(rng)
    f = sb.compile(text)
    differentiable = tuple(name for name in f.inputs if name != "y")
    assert f.wrt == differentiable
    expected = np.asarray(reference(**inputs))

    value, grads = f(**inputs)
    assert np.shape(value) == expected.shape
    np.testing.assert_allclose(value, expected, rtol=1e-12)
    # For an array output, the gradients are those of the sum of its elements.
    assert_gradients_match_finite_differences(
        grads, lambda **kw: np.sum(reference(**kw)), inputs, differentiable
    )

    if expected.ndim:
        upstream = rng.normal(size=expected.shape)
        value, products = f.vjp(upstream, **inputs)
        np.testing.assert_allclose(value, expected, rtol=1e-12)
        assert_gradients_match_finite_differences(
            products, lambda **kw: np.sum(upstream * reference(**kw)), inputs, differentiable
        )


@pytest.mark.parametrize(
    ("text", "shapes", "reference"),
    [
        ("W @ x", {"W": (3, 4), "x": (4,)}, lambda W, x: W @ x),
        ("softmax(x)", {"x": (5,)}, _softmax),
        ("softmax(x, axis=1)", {"x": (2, 3)}, lambda x: _softmax(x, 1)),
        ("exp(A) @ B.T", {"A": (2, 3), "B": (4, 3)}, lambda A, B: np.exp(A) @ B.T),
    ],
)
def test_vjp_is_the_upstream_weighted_sum_of_derivatives(
    text: str, shapes: dict[str, tuple[int, ...]], reference: Callable[..., Any]
) -> None:
    """f.vjp(u, ...)[1][name] = Σₖ uₖ · ∂outputₖ/∂input, each derivative by finite differences."""
    rng = np.random.default_rng(11)
    inputs = {name: rng.normal(size=shape) for name, shape in shapes.items()}
    output = reference(**inputs)
    upstream = rng.normal(size=output.shape)
    f = sb.compile(text, shapes=shapes)
    value, products = f.vjp(upstream, **inputs)
    np.testing.assert_allclose(value, output, rtol=1e-12)
    for name in shapes:
        expected = np.zeros(shapes[name])
        for k in np.ndindex(output.shape):
            component = numerical_gradient(lambda k=k, **kw: reference(**kw)[k], inputs, name)
            expected += upstream[k] * component
        np.testing.assert_allclose(products[name], expected, rtol=RTOL, atol=ATOL)
    # The all-ones upstream gradient is the plain call's gradient of the sum.
    _, of_sum = f(**inputs)
    _, with_ones = f.vjp(np.ones(output.shape), **inputs)
    for name in shapes:
        np.testing.assert_allclose(with_ones[name], of_sum[name], rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# Broadcasting: each input's gradient is summed back to that input's own shape.

BROADCASTS = [
    pytest.param(
        "a * b",
        {"a": (3, 1), "b": (1, 4)},
        lambda a, b, u: {
            "a": (u * b).sum(axis=1, keepdims=True),
            "b": (u * a).sum(axis=0, keepdims=True),
        },
        id="column-times-row",
    ),
    pytest.param(
        "v * M",
        {"v": (4,), "M": (3, 4)},
        lambda v, M, u: {"v": (u * M).sum(axis=0), "M": u * v},
        id="vector-times-matrix",
    ),
    pytest.param(
        "s * M",
        {"s": (), "M": (3, 4)},
        lambda s, M, u: {"s": (u * M).sum(), "M": u * s},
        id="scalar-times-matrix",
    ),
    pytest.param(
        "a + b",
        {"a": (2, 1, 3), "b": (4, 1)},
        lambda a, b, u: {"a": u.sum(axis=1, keepdims=True), "b": u.sum(axis=(0, 2))[:, None]},
        id="3d-plus-column",
    ),
    pytest.param(
        "a - b",
        {"a": (2, 1, 3), "b": (4, 1)},
        lambda a, b, u: {"a": u.sum(axis=1, keepdims=True), "b": -u.sum(axis=(0, 2))[:, None]},
        id="3d-minus-column",
    ),
    pytest.param(
        "a / b",
        {"a": (3, 4), "b": (4,)},
        lambda a, b, u: {"a": u / b, "b": (-u * a / b**2).sum(axis=0)},
        id="matrix-over-vector",
    ),
]


@pytest.mark.parametrize(("text", "shapes", "explicit"), BROADCASTS)
def test_broadcast_gradients_are_summed_back(
    text: str, shapes: dict[str, tuple[int, ...]], explicit: Callable[..., Any]
) -> None:
    rng = np.random.default_rng(5)
    inputs = {name: rng.normal(size=shape) + 2.0 for name, shape in shapes.items()}
    operator = text.split()[1]
    reference = {"*": np.multiply, "+": np.add, "-": np.subtract, "/": np.divide}[operator]
    f = sb.compile(text)
    value, grads = f(**inputs)
    output = reference(*inputs.values())
    np.testing.assert_allclose(value, output, rtol=1e-12)
    # Gradient of the sum: the explicit sums with an all-ones upstream gradient.
    ones = explicit(*inputs.values(), np.ones(output.shape))
    for name, shape in shapes.items():
        assert np.shape(grads[name]) == shape, name
        np.testing.assert_allclose(grads[name], ones[name], rtol=1e-12)
    # Any upstream gradient: the explicit sums, and finite differences.
    upstream = rng.normal(size=output.shape)
    _, products = f.vjp(upstream, **inputs)
    weighted = explicit(*inputs.values(), upstream)
    for name, shape in shapes.items():
        assert np.shape(products[name]) == shape, name
        np.testing.assert_allclose(products[name], weighted[name], rtol=1e-12)
    assert_gradients_match_finite_differences(
        products,
        lambda **kw: np.sum(upstream * reference(*kw.values())),
        inputs,
        tuple(shapes),
    )


def test_python_scalar_times_matrix() -> None:
    M = np.arange(12.0).reshape(3, 4)
    value, grads = sb.compile("s * M")(2.0, M)
    np.testing.assert_array_equal(value, 2.0 * M)
    assert np.shape(grads["s"]) == () and float(grads["s"]) == M.sum()
    np.testing.assert_array_equal(grads["M"], np.full((3, 4), 2.0))


@pytest.mark.parametrize("text", ["x.T", "sum(x)", "sum(x.T) + mean(x)", "s * x"])
def test_gradients_are_fresh_arrays(text: str) -> None:
    """A gradient computed by a view (a transpose, a broadcast) is copied before it is returned."""
    x = np.ones((3, 4))
    f = sb.compile(text)
    inputs = {"x": x, "s": 2.0} if "s" in f.inputs else {"x": x}
    _, grads = f(**inputs)
    expected = grads["x"].copy()
    assert not np.shares_memory(grads["x"], x)
    grads["x"][0, 0] = 100.0  # writable, and changing it changes nothing else
    assert x[0, 0] == 1.0
    _, again = f(**inputs)
    np.testing.assert_array_equal(again["x"], expected)


# ---------------------------------------------------------------------------------------------
# Shapes that do not fit.


def test_shape_error_is_exported_from_the_package() -> None:
    assert sb.ShapeError is ShapeError
    assert "ShapeError" in sb.__all__


def test_matmul_shapes_checked_at_compile_time() -> None:
    with pytest.raises(ShapeError) as caught:
        sb.compile("W @ x", shapes={"W": (3, 4), "x": (5,)})
    error = caught.value
    assert isinstance(error, SymbackpropError) and isinstance(error, ValueError)
    assert (error.line, error.column) == (1, 1)
    assert "(3, 4)" in str(error) and "(5,)" in str(error)
    assert "W @ x" in error.message


def test_shape_error_points_at_the_sub_expression() -> None:
    text = "h = 2 * x\nout = W @ h\nsum(out)"
    with pytest.raises(ShapeError) as caught:
        sb.compile(text, shapes={"x": (5,), "W": (3, 4)})
    assert (caught.value.line, caught.value.column) == (2, 7)
    assert "(3, 4)" in caught.value.message and "(5,)" in caught.value.message
    assert "  2 | out = W @ h\n    |       ^^^^^" in str(caught.value)


def test_matmul_shapes_checked_at_call_time() -> None:
    f = sb.compile("W @ x")
    with pytest.raises(ShapeError) as caught:
        f(np.ones((3, 4)), np.ones(5))
    assert (caught.value.line, caught.value.column) == (1, 1)
    assert "(3, 4)" in str(caught.value) and "(5,)" in str(caught.value)
    with pytest.raises(ShapeError):
        f.value(np.ones((3, 4)), np.ones(5))
    # The same function still works with shapes that fit.
    value, _ = f(np.ones((3, 4)), np.ones(4))
    np.testing.assert_array_equal(value, [4.0, 4.0, 4.0])


@pytest.mark.parametrize(
    ("text", "shapes"),
    [
        ("A @ B", {"A": (2, 3, 4), "B": (4, 2)}),  # @ takes vectors and matrices only
        ("A @ B", {"A": (), "B": (4, 2)}),
        ("a + b", {"a": (3,), "b": (4,)}),
        ("sum(x, axis=3)", {"x": (3, 4)}),
        ("max(x, axis=-3)", {"x": (3, 4)}),
        ("softmax(x, axis=2)", {"x": (3, 4)}),
        ("vdot(a, b)", {"a": (3,), "b": (4,)}),
    ],
)
def test_shapes_that_do_not_fit(text: str, shapes: dict[str, tuple[int, ...]]) -> None:
    with pytest.raises(ShapeError):
        sb.compile(text, shapes=shapes)
    with pytest.raises(ShapeError):
        sb.compile(text)(**{name: np.ones(shape) for name, shape in shapes.items()})


def test_axis_out_of_range_names_the_axis_and_shape() -> None:
    with pytest.raises(ShapeError) as caught:
        sb.compile("sum(x, axis=3)")(np.ones((3, 4)))
    assert "3" in caught.value.message and "(3, 4)" in caught.value.message


@pytest.mark.parametrize(
    ("scores", "labels"),
    [((3, 4), (2,)), ((4,), (4,)), ((3, 4), (3, 1)), ((2, 3, 4), (2,))],
)
def test_pick_with_wrong_shapes(scores: tuple[int, ...], labels: tuple[int, ...]) -> None:
    with pytest.raises(ShapeError) as caught:
        sb.compile("pick(S, y)", shapes={"S": scores, "y": labels})
    assert str(scores) in caught.value.message and str(labels) in caught.value.message
    with pytest.raises(ShapeError):
        sb.compile("pick(S, y)")(np.ones(scores), np.zeros(labels, dtype=int))


def test_vjp_with_an_upstream_of_the_wrong_shape() -> None:
    f = sb.compile("W @ x")
    with pytest.raises(ShapeError) as caught:
        f.vjp(np.ones(4), np.ones((3, 4)), np.ones(4))
    assert "(4,)" in str(caught.value) and "(3,)" in str(caught.value)
    with pytest.raises(ShapeError):
        sb.compile("sum(x)").vjp(np.ones(1), np.ones(3))


@pytest.mark.parametrize("wrt", [["y"], ["S", "y"], "y"])
def test_wrt_naming_picks_labels_is_an_error(wrt: Any) -> None:
    with pytest.raises(SymbackpropError, match="'y'"):
        sb.compile("sum(pick(S, y))", wrt=wrt)


def test_unknown_or_missing_names_in_shapes() -> None:
    with pytest.raises(SymbackpropError):
        sb.compile("W @ x", shapes={"W": (3, 4), "x": (4,), "z": (1,)})
    with pytest.raises(SymbackpropError):
        sb.compile("W @ x", shapes={"W": (3, 4)})


# ---------------------------------------------------------------------------------------------
# Non-smooth reductions, one- and many-argument max/min.


def test_max_reduction_splits_the_gradient_evenly_between_tied_maxima() -> None:
    value, grads = sb.compile("max(x)")(np.array([1.0, 3.0, 3.0, 2.0]))
    assert value == 3.0
    np.testing.assert_array_equal(grads["x"], [0.0, 0.5, 0.5, 0.0])

    value, grads = sb.compile("max(x, axis=1)")(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]))
    np.testing.assert_array_equal(value, [3.0, 2.0])
    np.testing.assert_allclose(grads["x"], [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-15)

    value, grads = sb.compile("min(x, axis=0)")(np.array([[1.0, 3.0], [1.0, 2.0]]))
    np.testing.assert_array_equal(value, [1.0, 2.0])
    np.testing.assert_array_equal(grads["x"], [[0.5, 0.0], [0.5, 1.0]])


def test_one_argument_max_reduces_and_many_arguments_compare() -> None:
    x = np.array([[1.0, 5.0], [4.0, 2.0]])
    assert sb.compile("max(x)").value(x) == 5.0
    np.testing.assert_array_equal(sb.compile("max(x, axis=0)").value(x), [4.0, 5.0])
    np.testing.assert_array_equal(sb.compile("max(x, 3)").value(x), [[3.0, 5.0], [4.0, 3.0]])
    np.testing.assert_array_equal(sb.compile("min(x)").value(x), 1.0)
    # The elementwise max routes each element's gradient to the first largest argument.
    _, grads = sb.compile("max(a, b)")(np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0]))
    np.testing.assert_array_equal(grads["a"], [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(grads["b"], [1.0, 0.0, 0.0])


def test_one_argument_max_of_a_python_number() -> None:
    assert sb.compile("max(x)")(2.5) == (2.5, {"x": 1.0})


def test_norm_at_zero_uses_the_zero_subgradient() -> None:
    """‖x‖ has a kink at x = 0, as |x| does; abs'(0) = 0, so the norm's gradient there is 0.

    In particular ‖W·x‖², which is smooth, has the gradient 0 at W = 0 (a zero initialisation)
    whichever way it is written.
    """
    _, grads = sb.compile("norm(x)")(np.zeros(3))
    np.testing.assert_array_equal(grads["x"], np.zeros(3))
    x = np.array([1.0, -2.0, 0.5])
    for text in ("q = W @ x\nsum(q * q)", "norm(W @ x) ** 2"):
        value, grads = sb.compile(text)(np.zeros((2, 3)), x)
        assert value == 0.0
        np.testing.assert_array_equal(grads["W"], np.zeros((2, 3)), err_msg=text)
        np.testing.assert_array_equal(grads["x"], np.zeros(3), err_msg=text)


# ---------------------------------------------------------------------------------------------
# Precedence: `@` binds as `*` (left to right), `.T` tighter than everything.


def test_matmul_precedence_is_that_of_the_product() -> None:
    rng = np.random.default_rng(6)
    W, x, b = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=3)
    s = 2.5
    cases = {
        "b + W @ x": b + W @ x,  # not (b + W) @ x, which would not even fit
        "s / W @ x": (s / W) @ x,  # left to right, as s / W * x
        "W @ x / s": (W @ x) / s,
        "-W @ x": (-W) @ x,
        "W.T.T @ x": W @ x,
        "x @ W.T ** 2 @ b": x @ (W.T**2) @ b,
    }
    for text, expected in cases.items():
        f = sb.compile(text)
        inputs = {"W": W, "x": x, "b": b, "s": s}
        value = f.value(**{name: inputs[name] for name in f.inputs})
        np.testing.assert_allclose(value, expected, rtol=1e-12, err_msg=text)


# ---------------------------------------------------------------------------------------------
# The generated code: vector-Jacobian products, never a Jacobian.


def test_matrix_vector_backward_uses_a_transpose_not_a_jacobian() -> None:
    text = "q = W @ x\nsum(q * q)"
    n = 1000
    f = sb.compile(text, shapes={"W": (n, n), "x": (n,)})
    source = f.source_for("array", shapes={"W": (n, n), "x": (n,)})
    backward = source.split("# backward pass")[1].split("def value(")[0]
    transposed = re.search(r"^\s*(\w+) = np\.transpose\(W\)$", backward, re.MULTILINE)
    assert transposed is not None, backward
    product = rf"^\s*dx = (np\.matmul\({transposed[1]}, dq, out=\w+\)|{transposed[1]} @ dq)$"
    assert re.search(product, backward, re.MULTILINE), backward
    assert re.search(r"^\s*dW = np\.outer\(dq, x\)$", backward, re.MULTILINE), backward
    assert "eye" not in source and "kron" not in source and "einsum" not in source

    rng = np.random.default_rng(0)
    W, x = rng.normal(size=(n, n)), rng.normal(size=n)
    tracemalloc.start()
    try:
        value, grads = f(W, x)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * W.nbytes, f"peak {peak / 1e6:.1f} MB for a {W.nbytes / 1e6:.1f} MB W"
    q = W @ x
    np.testing.assert_allclose(value, q @ q, rtol=1e-10)
    np.testing.assert_allclose(grads["x"], 2 * W.T @ q, rtol=1e-10)
    np.testing.assert_allclose(grads["W"][:3, :3], 2 * np.outer(q[:3], x[:3]), rtol=1e-12)


def test_source_for_array_is_specialized_to_the_shapes() -> None:
    f = sb.compile("sum(W @ x)", shapes={"W": (3, 4), "x": (4,)})
    assert "def value_and_grad(W, x):" in f.source_for("array")
    assert f.source == f.source_for("array")
    with pytest.raises(SymbackpropError):
        f.source_for("float")
    with pytest.raises(ShapeError):
        f.source_for("array", shapes={"W": (3, 4), "x": (3,)})


# ---------------------------------------------------------------------------------------------
# float32 stays float32.


@pytest.mark.parametrize(
    "text",
    [
        "q = W @ x\nsum(q * q)",
        "norm(W @ x)",
        "sum(softmax(W @ x))",
        "max(W, axis=1) @ W @ x",
        "mean(W * 2.5) + vdot(x, x) + sum(logsumexp(W, axis=0) * x)",
    ],
)
def test_float32_inputs_keep_float32_gradients(text: str) -> None:
    rng = np.random.default_rng(3)
    W = rng.normal(size=(3, 4)).astype(np.float32)
    x = rng.normal(size=4).astype(np.float32)
    value, grads = sb.compile(text)(W, x)
    assert np.asarray(value).dtype == np.float32
    assert grads["W"].dtype == np.float32 and grads["x"].dtype == np.float32
    assert grads["W"].shape == (3, 4) and grads["x"].shape == (4,)


def test_float32_losses_keep_float32_gradients() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(5, 4)).astype(np.float32)
    W = rng.normal(size=(4, 3)).astype(np.float32)
    y = np.array([0, 2, 1, 1, 0])
    for text, extra in ((SOFTMAX, {}), (SVM, {"lam": 0.1})):
        value, grads = sb.compile(text)(X=X, W=W, y=y, **extra)
        assert np.asarray(value).dtype == np.float32
        assert grads["X"].dtype == np.float32 and grads["W"].dtype == np.float32
    expected = softmax_loss_loops(X.astype(np.float64), W.astype(np.float64), y)[0]
    value, _ = sb.compile(SOFTMAX)(X=X, W=W, y=y)
    np.testing.assert_allclose(value, expected, rtol=1e-5)


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        # the softmax of the inputs, from their differences (exact: e^0/2, e/(1 + e), e^0/3)
        ([1e16, 1e16], [0.5, 0.5]),
        ([1e15, 1e15], [0.5, 0.5]),
        ([1e16, 1e16, 1e16], [1 / 3, 1 / 3, 1 / 3]),
        ([3e15, 3e15 - 1], [np.e / (1 + np.e), 1 / (1 + np.e)]),
        ([-1e16, -1e16], [0.5, 0.5]),
        ([1000.0, 1000.0], [0.5, 0.5]),
    ],
)
def test_logsumexp_gradient_of_huge_inputs_is_their_softmax(
    x: list[float], expected: list[float]
) -> None:
    """∂ logsumexp(x)/∂x is softmax(x) (JAX gives these numbers).  As e^(x − value) it would
    inherit the value's rounding: at (1e16, 1e16), where log 2 is lost, it gave (1, 1)."""
    _, grads = sb.compile("logsumexp(x)")(np.array(x))
    np.testing.assert_allclose(grads["x"], expected, rtol=1e-15)
    assert np.isclose(np.sum(grads["x"]), 1.0, rtol=1e-15)
    _, row_grads = sb.compile("logsumexp(x, axis=1)")(np.array([x, [0.0] * len(x)]))
    np.testing.assert_allclose(row_grads["x"][0], expected, rtol=1e-15)
    np.testing.assert_allclose(row_grads["x"][1], [1 / len(x)] * len(x), rtol=1e-15)


# -- edge cases a NumPy or JAX user meets (expected values from NumPy, JAX and SciPy) -----------


@pytest.mark.parametrize("labels", [[1.7, 0.0], [np.nan, 0.0], [np.inf, 0.0]])
def test_pick_refuses_labels_that_are_not_whole_numbers(labels: list[float]) -> None:
    # NumPy (IndexError) and JAX (TypeError) refuse float indices; a cast would cut 1.7 to 1.
    scores = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    with pytest.raises(sb.EvaluationError, match="whole numbers") as caught:
        sb.compile("pick(S, y)")(scores, np.array(labels))
    assert caught.value.span is not None and caught.value.span.column == 1


@pytest.mark.parametrize("label", [3, -4, 2**53 + 2])
def test_pick_refuses_labels_beyond_the_classes(label: int) -> None:
    scores = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    with pytest.raises(sb.EvaluationError, match="out of bounds for 3 classes"):
        sb.compile("pick(S, y)")(scores, np.array([label, 0]))


def test_pick_takes_whole_float_labels_lists_and_negative_labels_as_numpy_indexes() -> None:
    scores = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    expected = scores[[0, 1], [-1, 0]]  # NumPy's indexing: -1 is the last class
    for labels in ([-1, 0], np.array([2.0, 0.0]), np.array([-1, 0], np.int8)):
        value, grads = sb.compile("pick(S, y)")(scores, labels)
        assert value.tolist() == expected.tolist()
        assert grads["S"].tolist() == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]


def test_logsumexp_and_softmax_of_empty_arrays_are_those_of_jax_and_scipy() -> None:
    # scipy.special.logsumexp([]) and jax.nn.logsumexp of an empty array are -inf (log 0), and
    # jax.nn.softmax of an empty array is empty; NumPy's max of nothing raised here before.
    value, grads = sb.compile("logsumexp(x)")(np.zeros(0))
    assert value == -np.inf and grads["x"].shape == (0,)
    value, grads = sb.compile("logsumexp(x, axis=0)")(np.zeros((0, 3)))
    assert value.tolist() == [-np.inf] * 3 and grads["x"].shape == (0, 3)
    value, grads = sb.compile("softmax(x, axis=0)")(np.zeros((0, 3)))
    assert value.shape == (0, 3) and grads["x"].shape == (0, 3)


def test_a_whole_array_logsumexp_is_a_numpy_scalar_as_numpy_reductions_are() -> None:
    x = np.array([1.0, 2.0])
    value = sb.compile("logsumexp(x)").value(x)
    assert isinstance(value, np.float64) and not isinstance(value, np.ndarray)
    assert value == pytest.approx(np.log(np.exp(1.0) + np.exp(2.0)), rel=1e-15)
    assert isinstance(sb.compile("logsumexp(x, axis=0)").value(x), np.float64)


@pytest.mark.parametrize("text", ["x", "x * 1", "+x", "--x", "x + 0"])
def test_an_input_returned_as_the_value_is_a_copy(text: str) -> None:
    # NumPy's `x * 1` and `+x` are new arrays: writing into the value must not change x.
    x = np.array([1.0, 2.0, 3.0])
    function = sb.compile(text)
    for value in (function(x)[0], function.value(x), function.vjp(np.ones(3), x)[0]):
        assert value.tolist() == [1.0, 2.0, 3.0] and not np.shares_memory(value, x)
    x32 = np.float32(2.0)
    value, grads = function(x32)
    assert type(value) is np.float32 and value == 2.0 and type(grads["x"]) is np.float32
