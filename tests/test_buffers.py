"""Array code writes into buffers it no longer needs (`out=`), and that never changes a result.

The reference for every comparison is the same formula's array code without buffer reuse (what
the code generator emits for float32 inputs, whose temporaries' dtypes it cannot know): same
operations in the same order, so the results must be identical bit for bit.  The memory rules
are checked directly: no returned array shares memory with another, with an input or with the
value, and the inputs are never written.
"""

from __future__ import annotations

import textwrap
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import programs

import symbackprop as sb
from symbackprop.emit import VALUE, VALUE_AND_GRAD

NEURON = "1/(1+exp(-(w0*x0+w1*x1+w2)))"

# The benchmark's baseline, by hand: two buffers, then one fresh array per returned gradient,
# each already in its input's shape and dtype (float64), so returned as it is.
NEURON_ARRAY_BODY = """\
# forward pass
mul1 = w0 * x0
mul2 = w1 * x1
add1 = np.add(mul1, mul2, out=mul1)
add2 = np.add(add1, w2, out=add1)
# 1/(1+exp(-(w0*x0+w1*x1+w2))), computed stably as sigmoid
sigmoid1 = sigmoid_array(add2, out=add2)
# backward pass
# sigmoid1 = sigmoid_array(add2)
sub1 = np.subtract(1.0, sigmoid1, out=mul2)
dadd2 = np.multiply(sub1, sigmoid1, out=sub1)
# mul2 = w1 * x1
dw1 = x1 * dadd2
dx1 = w1 * dadd2
# mul1 = w0 * x0
dw0 = x0 * dadd2
dx0 = w0 * dadd2
return sigmoid1, {"w0": dw0, "x0": dx0, "w1": dw1, "x1": dx1, "w2": dadd2}
"""


def test_neuron_allocates_what_an_expert_allocates():
    """Two scratch buffers and the arrays it returns, as the hand-written benchmark baseline."""
    f = sb.compile(NEURON)
    source = f.source_for("array", shapes={name: (1000,) for name in f.inputs})
    body = source.split("def value_and_grad(w0, x0, w1, x1, w2):\n", 1)[1].split("\n\n", 1)[0]
    assert body == textwrap.indent(NEURON_ARRAY_BODY, "    ").rstrip("\n")
    value_body = source.split("def value(w0, x0, w1, x1, w2):\n", 1)[1]
    assert "sigmoid1 = sigmoid_array(add2, out=add2)\n    return sigmoid1" in value_body


def _without_reuse(f: sb.CompiledFunction, which: str, arrays: tuple[np.ndarray, ...]):
    shapes = tuple(np.shape(array) for array in arrays)
    _, functions = f._specialized(shapes, upstream=False, reuse_buffers=False)
    return functions[which](*arrays)


def _assert_separate(value: object, gradients: list[object], inputs: tuple[np.ndarray, ...]):
    """No gradient shares memory with another, the value or an input.

    (The value itself may be an input, or a view of one, as `x` or `x.T`, like NumPy's own.)
    """
    arrays = [array for array in gradients if isinstance(array, np.ndarray)]
    for position, array in enumerate(arrays):
        for other in [*arrays[position + 1 :], *inputs]:
            assert not np.shares_memory(array, other)
        if isinstance(value, np.ndarray):
            assert not np.shares_memory(array, value)


def check_reuse_changes_nothing(text: str, arrays: tuple[np.ndarray, ...]) -> None:
    f = sb.compile(text)
    saved = [array.copy() for array in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value, gradients = f(*arrays)
        expected_value, expected_gradients = _without_reuse(f, VALUE_AND_GRAD, arrays)
        forward = f.value(*arrays)
        expected_forward = _without_reuse(f, VALUE, arrays)
    for array, before in zip(arrays, saved, strict=True):
        np.testing.assert_array_equal(array, before)  # inputs are never written
    np.testing.assert_array_equal(value, expected_value)
    np.testing.assert_array_equal(forward, expected_forward)
    assert gradients.keys() == expected_gradients.keys()
    for name, gradient in gradients.items():
        np.testing.assert_array_equal(gradient, expected_gradients[name], err_msg=name)
    _assert_separate(value, list(gradients.values()), arrays)


CORPUS = [
    NEURON,
    "(x + y) * z",
    "a = x*y; b = a + x; c = a*b; c + a",
    "max(0, s - t + 1) + max(0, u - t + 1)",
    "x*x + x*y + y*y",
    "sin(x)*cos(y) + tanh(x*y) - exp(-x*x)",
    "relu(x - y) + abs(x) + softplus(y) + min(x, y, 2) - -x",
    "q = x + y; q*q*q + q",
    "log(1 + exp(x)) + sqrt(y*y + 1)",
]


@pytest.mark.parametrize("text", CORPUS)
def test_buffer_reuse_gives_identical_results(text):
    f = sb.compile(text)
    rng = np.random.default_rng(6)
    arrays = tuple(rng.standard_normal(7) for _ in f.inputs)
    check_reuse_changes_nothing(text, arrays)


def test_broadcast_inputs_keep_their_own_shapes():
    """A scalar weight over vectors: its gradient is summed, and no buffer of the wrong shape."""
    rng = np.random.default_rng(7)
    check_reuse_changes_nothing(
        "w * x + b * x * x + sigmoid(w * x)",
        (np.array(0.5), rng.standard_normal(5), rng.standard_normal((3, 1))),
    )


def test_matrix_gradients_do_not_share_buffers():
    rng = np.random.default_rng(8)
    check_reuse_changes_nothing(
        "s = W @ x; sum(s * s) + sum(W * W)", (rng.standard_normal((4, 3)), rng.standard_normal(3))
    )


def test_float32_inputs_keep_their_precision_without_reuse():
    f = sb.compile(NEURON)
    arrays = tuple(np.linspace(-1, 1, 5, dtype=np.float32) for _ in f.inputs)
    value, gradients = f(*arrays)
    assert value.dtype == np.float32
    assert all(gradient.dtype == np.float32 for gradient in gradients.values())


def test_mixed_float32_and_float64_inputs_are_computed_in_float64():
    """A float64 operand makes the temporaries float64: none is squeezed into a float32 buffer."""
    f = sb.compile("x * y + x * x")
    x = np.array([0.1, 0.2], dtype=np.float32)
    y = np.array([1 / 3, 2 / 3])
    value, _ = f(x, y)
    expected = x.astype(np.float64) * y + (x * x).astype(np.float64)
    np.testing.assert_array_equal(value, expected)


@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(programs(with_sympy=False), st.integers(0, 2**32 - 1))
def test_random_programs_reuse_buffers_without_changing_results(program, seed):
    rng = np.random.default_rng(seed)
    arrays = tuple(rng.uniform(-3, 3, size=4) for _ in program.inputs)
    try:
        sb.compile(program.text)
    except sb.SymbackpropError:
        return  # a program whose constants fold out of range: nothing to run
    check_reuse_changes_nothing(program.text, arrays)
