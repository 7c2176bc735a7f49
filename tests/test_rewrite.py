"""Naive formulas become stable gates, visibly, and their gradients stay finite and right."""

from __future__ import annotations

import math
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
