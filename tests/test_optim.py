"""The optimizers of `symbackprop.optim`: each update rule checked by hand, then on real problems.

The first three steps of each optimizer on f = x² from x = 1 (gradient 2x, lr = 0.1) are
written out as arithmetic here, independently of the implementation.  Then: each optimizer
reaches the minimum of the Rosenbrock function with tuned hyper-parameters; momentum beats plain
SGD on an ill-conditioned quadratic; arrays, state and errors.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import symbackprop as sb
from symbackprop import optim

SQUARE = sb.compile("x**2")
ROSENBROCK = "(1 - x)**2 + 100*(y - x**2)**2"


def three_steps(optimizer: optim.Optimizer) -> list[float]:
    """x after each of three steps on x², from x = 1, with gradients from the compiled formula."""
    params: dict[str, Any] = {"x": 1.0}
    trajectory = []
    for _ in range(3):
        _, grads = SQUARE(**params)
        params = optimizer.step(params, grads)
        assert type(params["x"]) is float
        trajectory.append(params["x"])
    return trajectory


# ---------------------------------------------------------------------------------------------
# The first three steps, by hand.


def test_sgd_by_hand() -> None:
    # x ← x − lr·2x
    x1 = 1 - 0.1 * 2 * 1  # 0.8
    x2 = x1 - 0.1 * 2 * x1  # 0.64
    x3 = x2 - 0.1 * 2 * x2  # 0.512
    assert three_steps(optim.SGD(lr=0.1)) == pytest.approx([x1, x2, x3], rel=1e-15)
    assert [x1, x2, x3] == pytest.approx([0.8, 0.64, 0.512])


def test_momentum_by_hand() -> None:
    # v ← 0.9·v − 0.1·2x;  x ← x + v
    v1 = 0.9 * 0 - 0.1 * 2 * 1  # −0.2
    x1 = 1 + v1  # 0.8
    v2 = 0.9 * v1 - 0.1 * 2 * x1  # −0.18 − 0.16 = −0.34
    x2 = x1 + v2  # 0.46
    v3 = 0.9 * v2 - 0.1 * 2 * x2  # −0.306 − 0.092 = −0.398
    x3 = x2 + v3  # 0.062
    optimizer = optim.Momentum(lr=0.1, momentum=0.9)
    assert three_steps(optimizer) == pytest.approx([x1, x2, x3], rel=1e-14)
    assert [x1, x2, x3] == pytest.approx([0.8, 0.46, 0.062])
    assert optimizer.velocity["x"] == pytest.approx(v3, rel=1e-14)
    assert optimizer.t == 3


def test_nesterov_by_hand() -> None:
    # v_prev = v;  v ← 0.9·v − 0.1·2x;  x ← x − 0.9·v_prev + 1.9·v
    v1 = 0.9 * 0 - 0.1 * 2 * 1  # −0.2
    x1 = 1 - 0.9 * 0 + 1.9 * v1  # 0.62
    v2 = 0.9 * v1 - 0.1 * 2 * x1  # −0.18 − 0.124 = −0.304
    x2 = x1 - 0.9 * v1 + 1.9 * v2  # 0.62 + 0.18 − 0.5776 = 0.2224
    v3 = 0.9 * v2 - 0.1 * 2 * x2  # −0.2736 − 0.04448 = −0.31808
    x3 = x2 - 0.9 * v2 + 1.9 * v3  # 0.2224 + 0.2736 − 0.604352 = −0.108352
    optimizer = optim.Nesterov(lr=0.1, momentum=0.9)
    assert three_steps(optimizer) == pytest.approx([x1, x2, x3], rel=1e-13)
    assert [x1, x2, x3] == pytest.approx([0.62, 0.2224, -0.108352])
    assert optimizer.velocity["x"] == pytest.approx(v3, rel=1e-14)


def test_adagrad_by_hand() -> None:
    # cache ← cache + g²;  x ← x − 0.1·g / (√cache + 1e-8)
    eps = 1e-8
    g1 = 2 * 1.0
    c1 = g1**2  # 4
    x1 = 1 - 0.1 * g1 / (math.sqrt(c1) + eps)  # ≈ 0.9
    g2 = 2 * x1
    c2 = c1 + g2**2  # 4 + 3.24
    x2 = x1 - 0.1 * g2 / (math.sqrt(c2) + eps)
    g3 = 2 * x2
    c3 = c2 + g3**2
    x3 = x2 - 0.1 * g3 / (math.sqrt(c3) + eps)
    optimizer = optim.AdaGrad(lr=0.1)
    assert three_steps(optimizer) == pytest.approx([x1, x2, x3], rel=1e-14)
    assert x1 == pytest.approx(0.9)
    assert x2 == pytest.approx(0.9 - 0.18 / math.sqrt(7.24))
    assert optimizer.cache["x"] == pytest.approx(c3, rel=1e-14)


def test_rmsprop_by_hand() -> None:
    # cache ← 0.9·cache + 0.1·g²;  x ← x − 0.1·g / (√cache + 1e-8)
    eps = 1e-8
    g1 = 2 * 1.0
    c1 = 0.9 * 0 + 0.1 * g1**2  # 0.4
    x1 = 1 - 0.1 * g1 / (math.sqrt(c1) + eps)  # 1 − 0.2/0.632… ≈ 0.6838
    g2 = 2 * x1
    c2 = 0.9 * c1 + 0.1 * g2**2
    x2 = x1 - 0.1 * g2 / (math.sqrt(c2) + eps)
    g3 = 2 * x2
    c3 = 0.9 * c2 + 0.1 * g3**2
    x3 = x2 - 0.1 * g3 / (math.sqrt(c3) + eps)
    optimizer = optim.RMSProp(lr=0.1, decay=0.9)
    assert three_steps(optimizer) == pytest.approx([x1, x2, x3], rel=1e-14)
    assert x1 == pytest.approx(1 - 0.2 / math.sqrt(0.4))
    assert optimizer.cache["x"] == pytest.approx(c3, rel=1e-14)


def test_adam_by_hand() -> None:
    # m ← 0.9·m + 0.1·g;  v ← 0.999·v + 0.001·g²;  x ← x − 0.1·m̂ / (√v̂ + 1e-8), with
    # m̂ = m / (1 − 0.9^t) and v̂ = v / (1 − 0.999^t)
    eps = 1e-8
    g1 = 2 * 1.0
    m1 = 0.1 * g1  # 0.2
    v1 = 0.001 * g1**2  # 0.004
    x1 = 1 - 0.1 * (m1 / 0.1) / (math.sqrt(v1 / 0.001) + eps)  # m̂ = 2, v̂ = 4: x ≈ 0.9
    g2 = 2 * x1
    m2 = 0.9 * m1 + 0.1 * g2
    v2 = 0.999 * v1 + 0.001 * g2**2
    x2 = x1 - 0.1 * (m2 / (1 - 0.9**2)) / (math.sqrt(v2 / (1 - 0.999**2)) + eps)
    g3 = 2 * x2
    m3 = 0.9 * m2 + 0.1 * g3
    v3 = 0.999 * v2 + 0.001 * g3**2
    x3 = x2 - 0.1 * (m3 / (1 - 0.9**3)) / (math.sqrt(v3 / (1 - 0.999**3)) + eps)
    optimizer = optim.Adam(lr=0.1)
    assert three_steps(optimizer) == pytest.approx([x1, x2, x3], rel=1e-12)
    assert x1 == pytest.approx(0.9)
    assert (optimizer.m["x"], optimizer.v["x"], optimizer.t) == (
        pytest.approx(m3, rel=1e-14),
        pytest.approx(v3, rel=1e-14),
        3,
    )


# ---------------------------------------------------------------------------------------------
# Real problems.

TUNED = [
    (optim.SGD(lr=1e-3), 20000),
    (optim.Momentum(lr=1e-3, momentum=0.9), 3000),
    (optim.Nesterov(lr=1e-3, momentum=0.9), 3000),
    (optim.AdaGrad(lr=0.5), 12000),
    (optim.RMSProp(lr=1e-3, decay=0.99), 10000),
    (optim.Adam(lr=0.05), 3000),
]


@pytest.mark.parametrize(
    ("optimizer", "steps"), TUNED, ids=[type(optimizer).__name__ for optimizer, _ in TUNED]
)
def test_each_optimizer_reaches_the_minimum_of_rosenbrock(
    optimizer: optim.Optimizer, steps: int
) -> None:
    optimizer.reset()  # the parametrized instances are shared by reruns
    result = sb.minimize(ROSENBROCK, params={"x": -1.2, "y": 1.0}, optimizer=optimizer, steps=steps)
    assert result.params["x"] == pytest.approx(1.0, abs=1e-2)
    assert result.params["y"] == pytest.approx(1.0, abs=2e-2)
    assert result.loss < 1e-3 < 24.2 == pytest.approx(result.history[0])


def steps_to(optimizer: optim.Optimizer, tolerance: float, most: int = 5000) -> int:
    """Steps until 0.5·(x² + 100y²), from (1, 1), is below `tolerance`."""
    result = sb.minimize(
        "0.5*(x**2 + 100*y**2)",
        params={"x": 1.0, "y": 1.0},
        optimizer=optimizer,
        steps=most,
        callback=lambda step, loss, params: loss < tolerance,
    )
    assert result.loss < tolerance, f"{optimizer!r} did not get there in {most} steps"
    return result.steps


def test_momentum_beats_sgd_on_an_ill_conditioned_quadratic() -> None:
    # Curvatures 1 and 100: SGD must keep lr below 2/100, so the flat direction crawls at a
    # rate of 1 − lr per step; momentum builds speed along it.
    sgd = steps_to(optim.SGD(lr=0.01), 1e-8)
    momentum = steps_to(optim.Momentum(lr=0.01, momentum=0.9), 1e-8)
    nesterov = steps_to(optim.Nesterov(lr=0.01, momentum=0.9), 1e-8)
    assert momentum < sgd / 4
    assert nesterov < sgd / 4
    assert nesterov <= momentum  # the look-ahead damps the oscillation along the steep axis


# ---------------------------------------------------------------------------------------------
# Arrays, state, conventions.


@pytest.mark.parametrize("make", list(optim.OPTIMIZERS.values()), ids=list(optim.OPTIMIZERS))
def test_arrays_are_updated_elementwise_and_never_in_place(make: type[optim.Optimizer]) -> None:
    w = np.array([[1.0, -2.0], [0.5, 3.0]])
    kept = w.copy()
    g = 2 * w
    first = make(lr=0.1).step({"w": w, "b": 1}, {"w": g, "b": 2.0})
    assert np.array_equal(w, kept)  # the caller's array is untouched
    assert first["w"].shape == (2, 2) and first["w"] is not w
    assert type(first["b"]) is float  # an int parameter comes back a float
    # Element by element: the same as a scalar parameter with that element's gradient.
    for index in np.ndindex(w.shape):
        alone = make(lr=0.1).step({"x": float(w[index])}, {"x": float(g[index])})
        assert first["w"][index] == pytest.approx(alone["x"], rel=1e-15)


def test_lists_become_arrays_and_float32_stays_float32() -> None:
    params = {"w": [1, 2], "v": np.ones(2, np.float32)}
    new = optim.SGD(lr=0.5).step(params, {"w": [2, 2], "v": [1, 1]})
    assert isinstance(new["w"], np.ndarray)
    assert new["w"].tolist() == [0.0, 1.0]
    assert new["v"].dtype == np.float32 and new["v"].tolist() == [0.5, 0.5]


def test_extra_gradients_are_ignored_and_order_is_kept() -> None:
    new = optim.SGD(lr=1.0).step({"b": 1.0, "a": 2.0}, {"a": 1.0, "b": 1.0, "data": 5.0})
    assert list(new) == ["b", "a"]
    assert new == {"b": 0.0, "a": 1.0}


def test_state_is_per_parameter_and_reset_forgets_it() -> None:
    optimizer = optim.Adam(lr=0.1)
    optimizer.step({"x": 1.0, "w": np.zeros(3)}, {"x": 1.0, "w": np.ones(3)})
    assert set(optimizer.m) == set(optimizer.v) == {"x", "w"}
    assert optimizer.m["x"] == pytest.approx(0.1) and optimizer.m["w"].shape == (3,)
    optimizer.reset()
    assert optimizer.t == 0 and optimizer.m == {} and optimizer.v == {}


def test_repr_names_the_hyper_parameters() -> None:
    assert repr(optim.SGD(lr=0.1)) == "SGD(lr=0.1)"
    assert repr(optim.Nesterov(0.01)) == "Nesterov(lr=0.01, momentum=0.9)"
    assert repr(optim.RMSProp(0.01)) == "RMSProp(lr=0.01, decay=0.9, eps=1e-08)"
    assert repr(optim.Adam()) == "Adam(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-08)"


# ---------------------------------------------------------------------------------------------
# Errors.


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: optim.SGD(lr=-0.1), "lr must be positive, got -0.1"),
        (lambda: optim.SGD(lr=0), "lr must be positive, got 0"),
        (lambda: optim.SGD(lr=math.nan), "lr must be positive"),
        (lambda: optim.Momentum(0.1, momentum=1.0), r"momentum must be in \[0, 1\), got 1.0"),
        (lambda: optim.Nesterov(0.1, momentum=-0.5), r"momentum must be in \[0, 1\)"),
        (lambda: optim.AdaGrad(0.1, eps=-1e-8), "eps must be non-negative"),
        (lambda: optim.RMSProp(0.1, decay=1.5), r"decay must be in \[0, 1\)"),
        (lambda: optim.Adam(beta1=1.0), r"beta1 must be in \[0, 1\)"),
        (lambda: optim.Adam(beta2=-0.1), r"beta2 must be in \[0, 1\)"),
    ],
)
def test_bad_hyper_parameters(make: Any, message: str) -> None:
    with pytest.raises(sb.SymbackpropError, match=message):
        make()


def test_hyper_parameters_must_be_numbers() -> None:
    with pytest.raises(TypeError, match=r"lr must be a number, got '0\.1'"):
        optim.SGD(lr="0.1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="lr must be a number"):
        optim.SGD(lr=True)


def test_a_missing_gradient_names_the_parameter() -> None:
    optimizer = optim.SGD(lr=0.1)
    with pytest.raises(sb.SymbackpropError, match=r"no gradient for parameter 'b'.*'w'"):
        optimizer.step({"w": 1.0, "b": 2.0}, {"w": 0.5})
    assert optimizer.t == 0  # a failed step changes nothing


def test_a_gradient_of_the_wrong_shape() -> None:
    with pytest.raises(sb.SymbackpropError, match=r"gradient of 'w' has shape \(2,\).*\(3,\)"):
        optim.SGD(lr=0.1).step({"w": np.zeros(3)}, {"w": np.zeros(2)})
    with pytest.raises(sb.SymbackpropError, match="gradient of the number 'x' has shape"):
        optim.SGD(lr=0.1).step({"x": 1.0}, {"x": np.zeros(2)})


def test_a_parameter_that_changes_shape_between_steps() -> None:
    optimizer = optim.Momentum(lr=0.1)
    optimizer.step({"w": np.zeros(3)}, {"w": np.ones(3)})
    with pytest.raises(sb.SymbackpropError, match=r"changed shape from \(3,\) to \(4,\)"):
        optimizer.step({"w": np.zeros(4)}, {"w": np.ones(4)})


def test_a_parameter_that_is_not_numbers() -> None:
    with pytest.raises(TypeError, match="parameter 'w' must be real numbers"):
        optim.SGD(lr=0.1).step({"w": np.array(["a"])}, {"w": 1.0})


def test_a_float16_parameter_stays_float16() -> None:
    new = optim.Adam(lr=0.1).step({"w": np.zeros(2, np.float16)}, {"w": np.ones(2, np.float16)})
    assert new["w"].dtype == np.float16 and new["w"].tolist() == [-0.0999755859375] * 2


def test_step_refuses_what_is_not_a_mapping_or_a_complex_gradient() -> None:
    with pytest.raises(TypeError, match="params must map"):
        optim.SGD(lr=0.1).step([1.0], {"x": 1.0})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="grads must map"):
        optim.SGD(lr=0.1).step({"x": 1.0}, [1.0])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be real, not complex"):
        optim.SGD(lr=0.1).step({"x": np.zeros(2)}, {"x": np.array([1j, 1.0])})
