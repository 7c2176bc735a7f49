"""Array gradients against SymPy, by elementwise expansion on small shapes; explain on arrays.

Each formula is written a second time in the test as a SymPy expression over the individual
elements (W[i, j] as a symbol), and SymPy differentiates that; the compiled array gradients must
agree element by element.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import symbackprop as sb


def _matrix(name: str, rows: int, columns: int) -> sympy.Matrix:
    return sympy.Matrix(rows, columns, lambda i, j: sympy.Symbol(f"{name}_{i}_{j}", real=True))


def _vector(name: str, size: int) -> sympy.Matrix:
    return sympy.Matrix(size, 1, lambda i, _: sympy.Symbol(f"{name}_{i}", real=True))


def _gradient(expression: sympy.Expr, symbols: sympy.Matrix, point: dict) -> np.ndarray:
    values = [
        [float(sympy.diff(expression, s).subs(point)) for s in row] for row in symbols.tolist()
    ]
    return np.array(values)


def _point(symbols: sympy.Matrix, values: np.ndarray) -> dict:
    flat = np.asarray(values, dtype=float).reshape(symbols.shape)
    return {symbols[i, j]: flat[i, j] for i in range(symbols.rows) for j in range(symbols.cols)}


RNG = np.random.default_rng(7)


def test_norm_of_matrix_vector_product_squared_matches_sympy():
    W_sym, x_sym = _matrix("W", 3, 2), _vector("x", 2)
    q = W_sym * x_sym
    expression = sum(entry**2 for entry in q)
    W, x = RNG.normal(size=(3, 2)), RNG.normal(size=2)
    point = {**_point(W_sym, W), **_point(x_sym, x)}
    value, grads = sb.compile("norm(W @ x) ** 2")(W, x)
    assert value == pytest.approx(float(expression.subs(point)), rel=1e-12)
    np.testing.assert_allclose(grads["W"], _gradient(expression, W_sym, point), rtol=1e-10)
    np.testing.assert_allclose(grads["x"], _gradient(expression, x_sym, point).ravel(), rtol=1e-10)


def test_softmax_loss_matches_sympy():
    X_sym, W_sym = _matrix("X", 2, 3), _matrix("W", 3, 2)
    labels = [1, 0]
    S = X_sym * W_sym
    rows = [
        sympy.log(sum(sympy.exp(S[i, j]) for j in range(2))) - S[i, labels[i]] for i in range(2)
    ]
    expression = sum(rows) / 2
    X, W = RNG.normal(size=(2, 3)), RNG.normal(size=(3, 2))
    point = {**_point(X_sym, X), **_point(W_sym, W)}
    f = sb.compile("S = X @ W\nmean(logsumexp(S, axis=1) - pick(S, y))")
    value, grads = f(X, W, np.array(labels))
    assert value == pytest.approx(float(expression.subs(point)), rel=1e-12)
    np.testing.assert_allclose(grads["X"], _gradient(expression, X_sym, point), rtol=1e-9)
    np.testing.assert_allclose(grads["W"], _gradient(expression, W_sym, point), rtol=1e-9)


def test_softmax_and_transpose_match_sympy():
    x_sym = _vector("x", 3)
    c = [0.5, -1.0, 2.0]
    exps = [sympy.exp(x_sym[i]) for i in range(3)]
    expression = sum(c[i] * exps[i] / sum(exps) for i in range(3))
    x = RNG.normal(size=3)
    point = _point(x_sym, x)
    value, grads = sb.compile("vdot(softmax(x.T), c)")(x, np.array(c))
    assert value == pytest.approx(float(expression.subs(point)), rel=1e-12)
    np.testing.assert_allclose(grads["x"], _gradient(expression, x_sym, point).ravel(), rtol=1e-9)


def test_explain_shows_vector_nodes_with_shapes_and_small_values():
    W = np.array([[1.0, 2.0], [-1.0, 0.5]])
    x = np.array([0.5, -1.0])
    derivation = sb.explain("q = W @ x\nsum(q * q)", W=W, x=x)
    text = str(derivation)
    # q = W·x = [-1.5, -1]; f = ‖q‖² = 3.25; dW = 2 q xᵀ; dx = 2 Wᵀ q.
    assert "q = W @ x = [-1.5, -1]  (shape (2,))" in text
    assert "# sum(q * q), computed in one pass as vdot" in text
    assert "∂f/∂x = W.T @ ∂f/∂q = [-1, -7]" in text
    np.testing.assert_allclose(derivation.gradients["W"], 2 * np.outer(W @ x, x))
    np.testing.assert_allclose(derivation.gradients["x"], 2 * W.T @ (W @ x))
    dot = derivation.to_dot()
    assert "[-1.5, -1]" in dot


def test_explain_summarizes_large_arrays_by_shape():
    derivation = sb.explain("sum(x * x)", x=np.arange(20.0))
    assert "<array of shape (20,)>" in str(derivation)
