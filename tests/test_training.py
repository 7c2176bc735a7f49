"""Training: numerical_gradient, minimize, the SciPy bridge, the fruit example and CLI minimize.

numerical_gradient is checked against compile() on a corpus of formulas (float and array mode)
and reproduces the lecture's forward-difference procedure on a loss over W = [0.5, 1.1, -0.7,
2.0].  minimize's stopping rules, errors and progress bar; for_scipy against SciPy's own finite
differences; examples/fruit_classifier.py in a fast setting; `symbackprop minimize`.
"""

from __future__ import annotations

import importlib.util
import io
import math
import pickle
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import symbackprop as sb
from symbackprop import optim
from symbackprop.cli import MINIMIZE_EXAMPLE, main

REPO = Path(__file__).resolve().parent.parent
ROSENBROCK = "(1 - x)**2 + 100*(y - x**2)**2"

# ---------------------------------------------------------------------------------------------
# numerical_gradient against compile().

POSITIVE = (0.3, 3.0)
# (formula, domain of the inputs that are not drawn from [-2, 2]): smooth formulas and the
# lecture's non-smooth ones (random points are almost surely away from their kinks).
CORPUS: list[tuple[str, dict[str, tuple[float, float]]]] = [
    ("(x+y)*z", {}),
    ("q = x + y\nf = q * z\nf", {}),
    ("1/(1+exp(-(w0*x0+w1*x1+w2)))", {}),
    ("sigmoid(w0*x0 + w1*x1 + w2)", {}),
    ("max(0, s_banana - s_apple + 1) + max(0, s_pear - s_apple + 1)", {}),
    ("a = x*y\nb = a + x\nc = a*b; c + a", {}),
    ("exp(x) + exp(x)", {}),
    ("sin(x)*sin(x) + cos(x)*cos(x)", {}),
    ("log(1 + exp(x)) - softplus(x)", {}),
    ("(x*y + 1)**3", {}),
    ("x**y", {"x": POSITIVE}),
    ("x**0.5 + x**-1", {"x": POSITIVE}),
    ("sqrt(x*x + y*y)", {"x": POSITIVE}),
    ("pi*r**2", {}),
    ("x/y/z", {"y": POSITIVE, "z": POSITIVE}),
    ("max(a, min(b, c), d) * a", {}),
    ("abs(x - y) + abs(y - z)", {}),
    ("exp(sin(cos(x)))", {}),
    ("log(sigmoid(x))", {}),
    ("tanh(w*x + b)*v", {}),
    ("tan(x)/x", {"x": (0.2, 1.2)}),
    ("log1p(x*x) + expm1(x)/x", {"x": POSITIVE}),
    ("logaddexp(logaddexp(a, b), c) - b", {}),
    ("h = relu(w1*x + b1)\no = w2*h + b2\n(o - t)**2", {}),
]


def point_for(text: str, domains: dict[str, tuple[float, float]], seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    return {
        name: float(rng.uniform(*domains.get(name, (-2.0, 2.0))))
        for name in sb.compile(text).inputs
    }


def assert_close(numerical: Any, analytic: Any, rtol: float, floor: float = 1e-3) -> None:
    """CS231n's relative error |n − a| / max(|n|, |a|, floor) ≤ rtol, elementwise.

    The floor keeps a gradient that is zero up to the differences' roundoff (about
    1e-16 · |f| / h) from counting as wrong.
    """
    numerical, analytic = np.asarray(numerical), np.asarray(analytic)
    assert numerical.shape == analytic.shape
    scale = np.maximum(np.maximum(abs(numerical), abs(analytic)), floor)
    assert np.all(abs(numerical - analytic) / scale <= rtol), (numerical, analytic)


@pytest.mark.parametrize(("text", "domains"), CORPUS, ids=[text for text, _ in CORPUS])
def test_numerical_gradient_agrees_with_compile(
    text: str, domains: dict[str, tuple[float, float]]
) -> None:
    function = sb.compile(text)
    for seed in range(3):
        point = point_for(text, domains, seed)
        _, analytic = function(**point)
        numerical = sb.numerical_gradient(text, **point)
        assert list(numerical) == list(function.inputs)
        for name in function.inputs:
            assert type(numerical[name]) is float
            assert_close(numerical[name], analytic[name], 1e-6)
        forward = sb.numerical_gradient(function, method="forward", h=1e-7, **point)
        for name in function.inputs:
            assert_close(forward[name], analytic[name], 1e-4, floor=1e-4)


@pytest.mark.parametrize(("text", "domains"), CORPUS[::3], ids=[text for text, _ in CORPUS[::3]])
def test_numerical_gradient_of_arrays_agrees_with_compile(
    text: str, domains: dict[str, tuple[float, float]]
) -> None:
    # The first input is a scalar, broadcast against the others, which are arrays: the output
    # is an array, standing for the sum of its elements.
    function = sb.compile(text)
    rng = np.random.default_rng(7)
    point: dict[str, Any] = {}
    for position, name in enumerate(function.inputs):
        low, high = domains.get(name, (-2.0, 2.0))
        point[name] = float(rng.uniform(low, high)) if position == 0 else rng.uniform(low, high, 4)
    _, analytic = function(**point)
    numerical = sb.numerical_gradient(function, **point)
    for name in function.inputs:
        assert_close(numerical[name], analytic[name], 1e-6)


def test_numerical_gradient_perturbs_each_element_of_a_matrix() -> None:
    w = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
    x = np.array([0.5, -1.0, 2.0])  # broadcast along the rows of w
    gradient = sb.numerical_gradient("(w*x)**2", w=w, x=x)
    assert gradient["w"].shape == (2, 3) and gradient["x"].shape == (3,)
    assert_close(gradient["w"], 2 * w * x**2, 1e-8)
    assert_close(gradient["x"], (2 * w**2 * x).sum(axis=0), 1e-8)
    assert w[0, 0] == 1.0  # the input is not modified


def test_numerical_gradient_of_a_compiled_function_covers_its_wrt() -> None:
    function = sb.compile("x*y + z", wrt=["y"])
    assert sb.numerical_gradient(function, x=3.0, y=1.0, z=0.0).keys() == {"y"}


def test_numerical_gradient_takes_inputs_named_like_its_options_through_at() -> None:
    gradient = sb.numerical_gradient("h * method", at={"h": 2.0, "method": 3.0})
    assert gradient == pytest.approx({"h": 3.0, "method": 2.0})


def test_numerical_gradient_errors() -> None:
    with pytest.raises(sb.SymbackpropError, match="h must be a positive number"):
        sb.numerical_gradient("x", h=0, x=1.0)
    with pytest.raises(sb.SymbackpropError, match="method must be 'central' or 'forward'"):
        sb.numerical_gradient("x", method="backward", x=1.0)
    with pytest.raises(TypeError, match="missing input: 'y'"):
        sb.numerical_gradient("x*y", x=1.0)
    with pytest.raises(TypeError, match="formula text or a CompiledFunction"):
        sb.numerical_gradient(len, x=1.0)  # type: ignore[arg-type]


# The lecture's table: the loss at W, then at W with one coordinate nudged by h = 0.0001, and the
# slope between them.  Our loss (the lecture's came from CIFAR-10) is a two-class hinge loss on
# two fixed examples plus L2 regularisation; W = [w0, w1; w2, w3] holds the two classes' weights.
LECTURE_LOSS = """\
a0 = w0*1.2 + w1*(-0.4)
a1 = w2*1.2 + w3*(-0.4)
b0 = w0*0.3 + w1*0.9
b1 = w2*0.3 + w3*0.9
hinge = (max(0, a0 - a1 + 1) + max(0, b1 - b0 + 1)) / 2
hinge + 0.1*(w0**2 + w1**2 + w2**2 + w3**2)
"""
W = {"w0": 0.5, "w1": 1.1, "w2": -0.7, "w3": 2.0}


def test_the_lectures_forward_difference_table() -> None:
    function = sb.compile(LECTURE_LOSS)
    h = 0.0001
    loss = function.value(**W)
    nudged = function.value(**{**W, "w0": W["w0"] + h})
    slope = (nudged - loss) / h
    _, analytic = function(**W)
    assert round(loss, 5) == 2.72 and round(nudged, 5) == 2.72006
    assert slope == pytest.approx(analytic["w0"], abs=1e-3)
    assert analytic["w0"] == pytest.approx(0.55)
    # numerical_gradient's forward method is the same procedure, for every coordinate.
    table = sb.numerical_gradient(function, h=h, method="forward", **W)
    assert table["w0"] == pytest.approx(slope, rel=1e-12)
    for name in W:
        assert table[name] == pytest.approx(analytic[name], abs=1e-3)


# ---------------------------------------------------------------------------------------------
# minimize.


def test_minimize_runs_the_loop_and_records_the_history() -> None:
    result = sb.minimize("(x - 3)**2", params={"x": 0}, optimizer=optim.SGD(lr=0.1), steps=50)
    assert result.steps == 50 and len(result.history) == 51 and not result.converged
    assert result.history[0] == 9.0
    assert result.params["x"] == pytest.approx(3.0, abs=1e-4)
    assert result.loss == result.history[-1] == pytest.approx((result.params["x"] - 3) ** 2)
    assert all(type(loss) is float for loss in result.history)
    assert type(result.params["x"]) is float


def test_minimize_with_array_parameters_and_data() -> None:
    # Least squares, one loss per sample: the gradient is that of the sum.
    rng = np.random.default_rng(1)
    x = rng.normal(size=50)
    t = 3.0 * x - 1.0 + 0.01 * rng.normal(size=50)
    w = np.array([0.0])
    result = sb.minimize(
        "(w*x + b - t)**2 / n",
        params={"w": w, "b": 0.0},
        data={"x": x, "t": t, "n": 50.0},
        optimizer=optim.Adam(lr=0.1),
        steps=500,
    )
    slope, intercept = np.polyfit(x, t, 1)
    assert result.params["w"].shape == (1,) and w[0] == 0.0
    assert result.params["w"][0] == pytest.approx(slope, abs=1e-3)
    assert result.params["b"] == pytest.approx(intercept, abs=1e-3)
    expected = float(np.sum((result.params["w"] * x + result.params["b"] - t) ** 2 / 50))
    assert result.loss == pytest.approx(expected)


def test_minimize_defaults_to_adam_and_continues_with_the_same_optimizer() -> None:
    adam = optim.Adam(lr=0.1)
    first = sb.minimize("x*x", params={"x": 1.0}, optimizer=adam, steps=10)
    assert adam.t == 10
    sb.minimize("x*x", params=first.params, optimizer=adam, steps=5)
    assert adam.t == 15
    default = sb.minimize("x*x", params={"x": 1.0}, steps=3)
    assert default.params["x"] == pytest.approx(1 - 3e-3, abs=1e-6)  # Adam's steps are ~lr


def test_callback_sees_each_step_and_stops_the_loop() -> None:
    function = sb.compile("(x - 3)**2")
    seen: list[tuple[int, float, float]] = []

    def callback(step: int, loss: float, params: dict[str, Any]) -> bool:
        seen.append((step, loss, params["x"]))
        return step == 5

    result = sb.minimize(function, {"x": 0.0}, optimizer=optim.SGD(lr=0.1), callback=callback)
    assert result.steps == 5 and len(result.history) == 6 and not result.converged
    assert [step for step, _, _ in seen] == [1, 2, 3, 4, 5]
    for step, loss, x in seen:
        assert loss == result.history[step] == function.value(x=x)


def test_any_true_value_from_the_callback_stops_the_loop() -> None:
    def numpy_says_so(step: int, loss: float, params: dict[str, Any]) -> Any:
        return np.float64(loss) < 1.0  # a NumPy bool, not True

    def prints_only(step: int, loss: float, params: dict[str, Any]) -> None:
        pass

    sgd = optim.SGD(lr=0.1)
    assert sb.minimize("(x - 3)**2", {"x": 0.0}, optimizer=sgd, callback=numpy_says_so).steps == 5
    assert sb.minimize("x*x", {"x": 1.0}, optimizer=sgd, steps=7, callback=prints_only).steps == 7


def test_tol_stops_when_the_loss_stops_changing() -> None:
    result = sb.minimize(
        "(x - 3)**2", {"x": 0.0}, optimizer=optim.SGD(lr=0.1), steps=10_000, tol=1e-10
    )
    assert result.converged
    assert result.steps < 200
    assert abs(result.history[-1] - result.history[-2]) < 1e-10
    assert abs(result.history[-2] - result.history[-3]) >= 1e-10


def test_a_loss_that_overflows_names_the_step() -> None:
    # lr = 1.5 on x²: x ← x − 3x = −2x, so |x| doubles until x*x overflows to inf.
    with pytest.raises(sb.DivergenceError, match=r"the loss became inf at step 51\d") as caught:
        sb.minimize("x*x", {"x": 1.0}, optimizer=optim.SGD(lr=1.5), steps=2000)
    error = caught.value
    assert isinstance(error, sb.SymbackpropError)
    assert 510 <= error.step <= 515 and error.loss == math.inf
    assert "smaller learning rate" in str(error)
    assert error.params is not None and abs(error.params["x"]) > 1e154
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.step, str(copy)) == (error.step, str(error))


def test_a_nan_loss_in_array_mode_names_the_step() -> None:
    # NumPy's sqrt of a negative number is nan (with a warning), not an error: the step from
    # x = 1 along −1/(2√x) with lr = 4 lands on x = −1.
    with (
        pytest.raises(sb.DivergenceError, match="the loss became nan at step 1 ") as caught,
        np.errstate(invalid="ignore"),
    ):
        sb.minimize("sqrt(x)", {"x": np.array([1.0])}, optimizer=optim.SGD(lr=4.0), steps=3)
    assert caught.value.params is not None
    assert caught.value.params["x"].tolist() == [-1.0]


def test_a_failed_evaluation_after_an_update_is_a_divergence() -> None:
    # The step from x = 1 along −1/x lands on x = −1, where log is undefined.
    with pytest.raises(sb.DivergenceError, match=r"failed at step 1.*math domain error") as caught:
        sb.minimize("log(x)", {"x": 1.0}, optimizer=optim.SGD(lr=2.0), steps=5)
    assert isinstance(caught.value.__cause__, sb.EvaluationError)
    assert caught.value.params == {"x": -1.0}


def test_a_non_finite_loss_at_the_start() -> None:
    with pytest.raises(sb.DivergenceError, match=r"at the starting point \(step 0\)"):
        sb.minimize("x*1e308*10", {"x": 1.0}, optimizer=optim.SGD(lr=0.1))


def test_minimize_errors() -> None:
    sgd = optim.SGD(lr=0.1)
    with pytest.raises(sb.SymbackpropError, match="'q' is not an input of the loss"):
        sb.minimize("x*x", {"q": 1.0}, optimizer=sgd)
    with pytest.raises(TypeError, match="'x' given both as parameter and as data"):
        sb.minimize("x*y", {"x": 1.0}, data={"x": 1.0, "y": 2.0}, optimizer=sgd)
    with pytest.raises(TypeError, match="missing input: 'y'"):
        sb.minimize("x*y", {"x": 1.0}, optimizer=sgd)
    with pytest.raises(sb.SymbackpropError, match=r"wrt=\['x'\], without 'y'"):
        sb.minimize(sb.compile("x*y", wrt="x"), {"y": 1.0}, data={"x": 1.0}, optimizer=sgd)
    with pytest.raises(sb.SymbackpropError, match="at least one parameter"):
        sb.minimize("x", {}, optimizer=sgd)
    with pytest.raises(sb.SymbackpropError, match="steps must be a non-negative integer"):
        sb.minimize("x*x", {"x": 1.0}, optimizer=sgd, steps=-1)
    with pytest.raises(sb.SymbackpropError, match="tol must be positive"):
        sb.minimize("x*x", {"x": 1.0}, optimizer=sgd, tol=0)
    with pytest.raises(TypeError, match=r"optimizer must be one of symbackprop\.optim's"):
        sb.minimize("x*x", {"x": 1.0}, optimizer="adam")  # type: ignore[arg-type]


def test_zero_steps_evaluates_the_start() -> None:
    result = sb.minimize("x*x", {"x": 2.0}, optimizer=optim.SGD(lr=0.1), steps=0)
    assert (result.params, result.history, result.steps) == ({"x": 2.0}, [4.0], 0)


class Terminal(io.StringIO):
    """A standard error that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    def run(**options: Any) -> str:
        stream = Terminal() if options.pop("terminal") else io.StringIO()
        monkeypatch.setattr(sys, "stderr", stream)
        sb.minimize("x*x", {"x": 1.0}, optimizer=optim.SGD(lr=0.1), steps=20, **options)
        return stream.getvalue()

    shown = run(terminal=True)
    assert shown.startswith("\rminimize [") and shown.endswith("\n")
    assert "] 20/20 loss " in shown.rsplit("\r", 1)[1]
    assert f"loss {0.8**40:.6g}" in shown
    assert run(terminal=False) == ""
    assert run(terminal=True, progress=False) == ""
    assert run(terminal=False, progress=True).startswith("\rminimize [")


def test_progress_bar_ends_its_line_when_the_loss_diverges(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = Terminal()
    monkeypatch.setattr(sys, "stderr", stream)
    with pytest.raises(sb.DivergenceError):
        sb.minimize("x*x", {"x": 1.0}, optimizer=optim.SGD(lr=1.5), steps=2000)
    assert stream.getvalue().endswith("\n")


# ---------------------------------------------------------------------------------------------
# SciPy.


def test_scipy_reaches_the_minimum_in_fewer_evaluations_with_our_gradient() -> None:
    scipy_optimize = pytest.importorskip("scipy.optimize")
    fun, layout = sb.compile(ROSENBROCK).for_scipy(["x", "y"])
    x0 = layout.flatten({"x": -1.2, "y": 1.0})
    ours = scipy_optimize.minimize(fun, x0, jac=True, method="BFGS")
    theirs = scipy_optimize.minimize(lambda x: fun(x)[0], x0, jac=None, method="BFGS")
    assert ours.success and theirs.success
    assert ours.x == pytest.approx([1.0, 1.0], abs=1e-5)
    assert theirs.x == pytest.approx(ours.x, abs=1e-4)
    assert ours.fun < 1e-10 and theirs.fun < 1e-9
    assert ours.nfev < theirs.nfev / 2
    assert layout.unflatten(ours.x) == {"x": pytest.approx(1.0), "y": pytest.approx(1.0)}


def test_scipy_with_scalar_and_array_parameters() -> None:
    scipy_optimize = pytest.importorskip("scipy.optimize")
    rng = np.random.default_rng(2)
    data = {"X": rng.normal(size=(2, 3)), "T": rng.normal(size=(2, 3))}
    function = sb.compile("(W*X + c - T)**2 + (b - 1)**2 + 0.1*c**2")
    start = {"c": np.zeros(3), "b": 0.0, "W": np.zeros((2, 3))}
    fun, layout = function.for_scipy(wrt=["c", "b", "W"], c=start["c"], W=start["W"], **data)
    assert layout.names == ("c", "b", "W") and layout.shapes == ((3,), (), (2, 3))
    assert layout.size == 10
    x0 = layout.flatten(start)
    # The gradient agrees with SciPy's own finite differences.
    assert scipy_optimize.check_grad(lambda x: fun(x)[0], lambda x: fun(x)[1], x0 + 0.3) < 1e-5
    result = scipy_optimize.minimize(fun, x0, jac=True, method="L-BFGS-B")
    found = layout.unflatten(result.x)
    assert type(found["b"]) is float and found["b"] == pytest.approx(1.0, abs=1e-5)
    assert found["W"].shape == (2, 3) and found["c"].shape == (3,)
    assert result.fun < 1e-6  # W·X + c can fit T exactly, and the penalty on c goes to 0


def test_layout_order_is_wrt_then_c_order() -> None:
    fun, layout = sb.compile("a*b").for_scipy(["b", "a"], a=np.zeros((2, 2)))
    x = layout.flatten({"a": np.array([[1.0, 2.0], [3.0, 4.0]]), "b": 5.0})
    assert x.tolist() == [5.0, 1.0, 2.0, 3.0, 4.0]
    value, gradient = fun(x)
    assert value == 50.0 and type(value) is float
    assert gradient.tolist() == [10.0, 5.0, 5.0, 5.0, 5.0]  # ∂/∂b = Σa, ∂/∂a = b
    unflattened = layout.unflatten(x)
    assert unflattened["b"] == 5.0 and unflattened["a"].tolist() == [[1.0, 2.0], [3.0, 4.0]]
    x[1] = 99.0
    assert unflattened["a"][0, 0] == 1.0  # unflatten copies: SciPy may reuse its buffer


def test_for_scipy_defaults_to_the_wrt_not_given_and_checks_its_arguments() -> None:
    function = sb.compile("(x - a)**2 + y**2")
    fun, layout = function.for_scipy(a=2.0)
    assert layout.names == ("x", "y")
    assert fun(np.array([2.0, 0.0])) == (0.0, pytest.approx(np.zeros(2)))
    with pytest.raises(sb.SymbackpropError, match="'y' is not among the function's gradients"):
        sb.compile("x*y", wrt="x").for_scipy(["x", "y"])
    with pytest.raises(TypeError, match=r"missing inputs.*: a"):
        function.for_scipy(["x", "y"])
    with pytest.raises(TypeError, match="unexpected input 'q'"):
        function.for_scipy(a=1.0, q=2.0)
    with pytest.raises(sb.SymbackpropError, match="more than once"):
        function.for_scipy(["x", "x", "y"], a=1.0)
    with pytest.raises(sb.SymbackpropError, match="expected a vector of 2 numbers"):
        fun(np.zeros(3))
    with pytest.raises(sb.SymbackpropError, match="no value for parameter 'y'"):
        layout.flatten({"x": 1.0})


def test_import_symbackprop_does_not_import_scipy() -> None:
    import subprocess

    code = "import sys, symbackprop; print('scipy' in sys.modules)"
    process = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert process.stdout.strip() == "False"


# ---------------------------------------------------------------------------------------------
# The fruit classifier example.


@pytest.fixture(scope="module")
def fruit() -> Iterator[ModuleType]:
    """examples/fruit_classifier.py as a module (examples/ is not a package)."""
    path = REPO / "examples" / "fruit_classifier.py"
    spec = importlib.util.spec_from_file_location("fruit_classifier", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


@pytest.mark.parametrize("loss", ["softmax", "svm"])
def test_fruit_classifier_reaches_its_accuracy_with_each_optimizer(
    fruit: ModuleType, loss: str
) -> None:
    outcomes = fruit.run(steps=60, loss=loss)
    assert [outcome.name for outcome in outcomes] == [
        "SGD",
        "Momentum",
        "Nesterov",
        "AdaGrad",
        "RMSProp",
        "Adam",
    ]
    for outcome in outcomes:
        assert outcome.accuracy >= 0.95, outcome
        assert len(outcome.history) == 61 and outcome.history[-1] < outcome.history[0] / 3


def test_fruit_classifier_main(fruit: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    assert fruit.main(["--steps", "60", "--no-plot"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("softmax loss, 300 training and 150 held-out samples, 60 steps\n")
    assert out.count(" %  ") == 6


def test_fruit_classifier_plot(
    fruit: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "curves.png"
    assert fruit.main(["--steps", "60", "--plot", str(path)]) == 0
    assert path.read_bytes().startswith(b"\x89PNG")
    assert f"loss curves written to {path}" in capsys.readouterr().out


def test_fruit_classifier_without_matplotlib(
    fruit: ModuleType,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    path = tmp_path / "curves.png"
    assert fruit.main(["--steps", "5", "--train", "30", "--test", "30", "--plot", str(path)]) in (
        0,
        1,
    )
    assert "matplotlib is not installed: no plot" in capsys.readouterr().out
    assert not path.exists()


def test_the_loss_snippets_match_the_lectures_numbers(fruit: ModuleType) -> None:
    # The lecture's three examples (cat/car/frog scores), as apple/banana/pear.
    scores = {
        "s_apple": np.array([3.2, 1.3, 2.2]),
        "s_banana": np.array([5.1, 4.9, 2.5]),
        "s_pear": np.array([-1.7, 2.0, -3.1]),
    }
    labels = {
        "y_apple": np.array([1.0, 0.0, 0.0]),
        "y_banana": np.array([0.0, 1.0, 0.0]),
        "y_pear": np.array([0.0, 0.0, 1.0]),
    }
    s_y = "s_y = y_apple*s_apple + y_banana*s_banana + y_pear*s_pear\n"
    stacked = np.stack(list(scores.values()))
    correct = np.sum(stacked * np.stack(list(labels.values())), axis=0)
    softmax = np.log(np.sum(np.exp(stacked), axis=0)) - correct  # −log of the softmax probability
    assert softmax[0] == pytest.approx(2.04, abs=5e-3)  # the lecture's cat example
    for loss, expected in [("svm", [2.9, 0.0, 12.9]), ("softmax", softmax)]:
        text = s_y + fruit.DATA_LOSSES[loss] + "data_loss"
        value, gradients = sb.compile(text, wrt=list(scores))(**scores, **labels)
        assert value == pytest.approx(expected, abs=1e-4)
        numerical = sb.numerical_gradient(sb.compile(text, wrt=list(scores)), **scores, **labels)
        for name in scores:
            assert_close(numerical[name], gradients[name], 1e-6)


# ---------------------------------------------------------------------------------------------
# The command line.


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_cli_minimize_rosenbrock(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_cli(
        capsys, "minimize", ROSENBROCK, "--at", "x=-1.2,y=1", "--lr", "0.1", "--steps", "1500"
    )
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "step    0  loss 24.2  at x=-1.2, y=1"
    assert lines[1].startswith("step  150  loss ")
    assert sum(line.startswith("step ") for line in lines) == 11
    assert lines[-4] == "after 1500 steps of adam (lr=0.1):"
    assert lines[-3].startswith("value = ") and float(lines[-3].split()[-1]) < 1e-8
    assert lines[-2].startswith("x     = 0.9999") and lines[-1].startswith("y     = 0.9999")


def test_cli_minimize_example_in_help_runs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["minimize", "--help"])
    assert MINIMIZE_EXAMPLE in capsys.readouterr().out
    status, out, err = run_cli(capsys, *shlex.split(MINIMIZE_EXAMPLE)[1:])
    assert status == 0 and err == "" and "after 500 steps of adam (lr=0.1):" in out


def test_cli_minimize_options(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(
        capsys,
        "minimize",
        "(x - a)**2",
        "--at",
        "x=0,a=3",
        "--wrt",
        "x",
        "--optimizer",
        "sgd",
        "--lr",
        "0.1",
        "--steps",
        "1000",
        "--tol",
        "1e-12",
        "--every",
        "0",
    )
    assert status == 0
    assert out.splitlines() == [
        "converged after 66 steps of sgd (lr=0.1): the loss changed by less than 1e-12",
        "value = 1.45252e-12",
        "x     = 3",
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["x*x", "--at", "x=1", "--lr", "-1"], "lr must be positive, got -1.0"),
        (
            ["x*x", "--at", "x=1", "--optimizer", "sgd", "--lr", "1.5", "--steps", "2000"],
            "the loss became inf at step",
        ),
        (["x*y", "--at", "x=1"], "--at gives no starting value for y"),
        (["x*x", "--at", "x=1,q=2"], "unexpected input 'q'"),
        (["x*x", "--at", "x=one"], "is not a number"),
        (["x*x", "--at", "x=1", "--steps", "-1"], "--steps must be at least 0"),
        (["x*x", "--at", "x=1", "--wrt", "z"], "--wrt: 'z' is not an input; the inputs are x"),
        (["x +", "--at", "x=1"], "unexpected end of the program"),
    ],
)
def test_cli_minimize_bad_input(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    status, _, err = run_cli(capsys, "minimize", *argv)
    assert status == 2
    assert err.startswith("symbackprop: error: ") and message in err
    assert "Traceback" not in err


@pytest.mark.parametrize("method", ["forward", "central"])
def test_numerical_gradient_of_float32_inputs_is_computed_in_float64(method: str) -> None:
    # d/dx Σx² = 2x; forward differences add h (1e-5) to it.  The base value of the forward
    # method was computed in float32, whose rounding divided by h made the slope off by 5e-3.
    x = np.array([1.1, 2.3, -0.7], np.float32)
    slope = sb.numerical_gradient("sum(x*x)", method=method, x=x)["x"]
    exact = 2 * x.astype(np.float64) + (1e-5 if method == "forward" else 0.0)
    np.testing.assert_allclose(slope, exact, rtol=0, atol=1e-6)
    scalar = sb.numerical_gradient("x*x", method=method, x=np.float32(3.0))["x"]
    assert type(scalar) is float
    assert scalar == pytest.approx(6.0 + (1e-5 if method == "forward" else 0.0), abs=1e-6)


def test_minimize_takes_numpy_integer_steps_and_refuses_a_tol_that_is_no_number() -> None:
    sgd = optim.SGD(lr=0.1)
    result = sb.minimize("(x - 3)**2", {"x": 0.0}, optimizer=sgd, steps=np.int64(3))
    assert result.steps == 3 and result.params["x"] == pytest.approx(3 - 3 * 0.8**3)
    with pytest.raises(sb.SymbackpropError, match="tol must be positive, got 'a'"):
        sb.minimize("x*x", {"x": 1.0}, optimizer=sgd, tol="a")
