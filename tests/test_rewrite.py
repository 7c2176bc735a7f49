"""Naive formulas become stable gates, visibly, and their gradients stay finite and right."""

from __future__ import annotations

import math
import tracemalloc
import warnings

import numpy as np
import pytest

import symbackprop as sb

# naive formula -> (the stable gate, the exact value and derivative at t = -1000 and t = 1000)
NAIVE_SIGMOID = "1/(1+exp(-t))"


@pytest.mark.parametrize(
    ("text", "gate"),
    [
        ("1/(1+exp(-t))", "sigmoid"),
        ("1 / (exp(-t) + 1)", "sigmoid"),
        ("log(1+exp(t))", "softplus"),
        ("log(exp(t) + 1)", "softplus"),
        ("log(exp(a)+exp(b))", "logaddexp"),
        ("exp(t)-1", "expm1"),
        ("log(1+t)", "log1p"),
        ("log(t + 1)", "log1p"),
    ],
)
def test_naive_formula_is_rewritten_to_its_stable_gate(text, gate):
    f = sb.compile(text)
    assert [rewrite.gate for rewrite in f.rewrites] == [gate]
    assert f.rewrites[0].text == text
    assert f.rewrites[0].span.start == 0 and f.rewrites[0].span.end == len(text)
    assert f"# {text}, computed stably as {gate}" in f.source
    assert f"# {text}, computed stably as {gate}" in f.source_for("array")


def test_rewrite_false_compiles_the_formula_as_written():
    f = sb.compile(NAIVE_SIGMOID, rewrite=False)
    assert f.rewrites == ()
    assert "exp(" in f.source and "sigmoid" not in f.source


@pytest.mark.parametrize("t", [-1000.0, 1000.0])
def test_naive_sigmoid_gradient_is_finite_and_right_at_the_extremes(t):
    # σ(t) and σ'(t) = σ(t)(1 − σ(t)): at ±1000 they are 0 or 1 and 0 (e^-1000 underflows).
    expected_value = 0.0 if t < 0 else 1.0
    f = sb.compile(NAIVE_SIGMOID)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert f(t) == (expected_value, {"t": 0.0})
        value, grads = f(np.array([t]))
    assert value.tolist() == [expected_value] and grads["t"].tolist() == [0.0]


def test_naive_sigmoid_gradient_is_accurate_in_the_far_left_tail():
    # σ'(−700) = e^−700 / (1 + e^−700)² ≈ e^−700, still a normal float.
    _, grads = sb.compile(NAIVE_SIGMOID)(-700.0)
    assert grads["t"] == pytest.approx(math.exp(-700.0), rel=1e-12)


def test_without_rewriting_the_naive_sigmoid_fails_at_minus_1000():
    with pytest.raises(sb.EvaluationError, match="overflow"):
        sb.compile(NAIVE_SIGMOID, rewrite=False)(-1000.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, grads = sb.compile(NAIVE_SIGMOID, rewrite=False)(np.array([-1000.0]))
    assert np.isnan(grads["t"][0])


def test_naive_log_sum_exp_is_stable_for_large_arguments():
    # log(e^1000 + e^1000) = 1000 + log 2; each partial is 1/2.
    value, grads = sb.compile("log(exp(a)+exp(b))")(1000.0, 1000.0)
    assert value == pytest.approx(1000.0 + math.log(2.0), rel=1e-15)
    assert grads == {"a": pytest.approx(0.5), "b": pytest.approx(0.5)}
    value, grads = sb.compile("log(exp(a)+exp(b))")(-1000.0, 1000.0)
    assert value == 1000.0 and grads == {"a": 0.0, "b": 1.0}


def test_softplus_and_log1p_keep_tiny_and_huge_values():
    assert sb.compile("log(1+exp(t))")(1000.0) == (1000.0, {"t": 1.0})
    assert sb.compile("log(1+t)")(1e-20)[0] == 1e-20
    assert sb.compile("exp(t)-1")(1e-20)[0] == 1e-20


def test_larger_pattern_wins_log_of_one_plus_exp_is_softplus_not_log1p():
    assert [r.gate for r in sb.compile("log(1 + exp(x*y))").rewrites] == ["softplus"]


def test_rewrite_keeps_the_users_binding_name():
    f = sb.compile("dot = w*x + b\nf = 1/(1+exp(-dot))\nf")
    assert "    # f = sigmoid(dot)\n" in f.source  # the backward pass's heading
    assert "        f = 1.0 / (1.0 + exp(-dot))\n" in f.source  # the staged sigmoid, into f


def test_formulas_that_only_look_alike_are_not_rewritten():
    for text in ["1/(2+exp(-t))", "1/(1+exp(t))", "log(2+exp(t))", "exp(t)-2", "log(1-t)"]:
        assert sb.compile(text).rewrites == (), text


# -- sums of products: vdot, one pass without a temporary ------------------------------------


@pytest.mark.parametrize(
    ("text", "operands"),
    [
        ("sum(W * W)", "W, W"),
        ("sum(W ** 2)", "W, W"),
        ("sum(a * b)", "a, b"),
        ("sum(b * a)", "b, a"),
    ],
)
def test_whole_array_sum_of_a_product_is_computed_as_vdot(text, operands):
    f = sb.compile(text)
    assert [(rewrite.gate, rewrite.text) for rewrite in f.rewrites] == [("vdot", text)]
    source = f.source_for("array", shapes={name: (3, 2) for name in f.inputs})
    assert f"# {text}, computed in one pass as vdot" in source
    assert f"vdot1 = vdot({operands})" in source


@pytest.mark.parametrize("text", ["sum(W * W, axis=0)", "mean(W * W)", "sum(W ** 3)", "sum(W + W)"])
def test_other_reductions_of_products_are_not_vdot(text):
    assert sb.compile(text).rewrites == ()


def test_vdot_rewrite_keeps_the_sum_of_squares_and_its_gradient():
    rng = np.random.default_rng(5)
    W = rng.standard_normal((7, 3))
    for text in ("sum(W * W)", "sum(W ** 2)", "0.5 * sum(W * W) + sum(W)"):
        value, grads = sb.compile(text)(W)
        naive_value, naive_grads = sb.compile(text, rewrite=False)(W)
        assert value == pytest.approx(naive_value, rel=1e-13)
        np.testing.assert_allclose(grads["W"], naive_grads["W"], rtol=1e-13)
    value, grads = sb.compile("sum(W * W)")(W)
    assert value == pytest.approx(float(np.sum(W**2)), rel=1e-13)  # Σ w², by NumPy
    np.testing.assert_allclose(grads["W"], 2 * W, rtol=1e-15)  # d/dW Σ w² = 2W


def test_vdot_of_operands_that_broadcast_sums_their_product():
    # Σ_ij x_ij · y_j for x 2×3 and y of 3: the gradient by y sums x's columns.
    x = np.arange(6.0).reshape(2, 3)
    y = np.array([1.0, -2.0, 0.5])
    value, grads = sb.compile("sum(x * y)")(x, y)
    assert sb.compile("sum(x * y)").rewrites[0].gate == "vdot"
    assert value == pytest.approx(float((x * y).sum()))
    np.testing.assert_allclose(grads["x"], np.broadcast_to(y, (2, 3)))
    np.testing.assert_allclose(grads["y"], x.sum(axis=0))


def test_sum_of_squares_allocates_no_temporary_the_size_of_its_input():
    W = np.ones((1000, 100))  # 800 kB
    f = sb.compile("sum(W * W)")
    f.value(W)  # generate the code first: only the call is measured
    tracemalloc.start()
    try:
        f.value(W)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < W.nbytes // 10
    naive = sb.compile("sum(W * W)", rewrite=False)
    naive.value(W)
    tracemalloc.start()
    try:
        naive.value(W)
        _, naive_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert naive_peak >= W.nbytes  # the temporary W * W that the rewrite saves
