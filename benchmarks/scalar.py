"""Workload 1 — scalar calls: the lecture's sigmoid neuron with Python floats.

One call computes the value and the five gradients.  The baseline is the lecture's staged
backprop written by hand with `math.exp` bound to a global name; symbackprop is called by keyword,
by position and through its raw generated function, to show the cost of its dispatch.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from math import exp
from typing import Any

import symbackprop

from .core import (
    NOT_INSTALLED,
    RATIO,
    Config,
    ContenderMismatch,
    Result,
    Row,
    Target,
    WorkloadResult,
    baseline_row,
    check_result,
    measure_many,
    timed_row,
)
from .peers import optional, raw_float_function

NAME = "scalar"
TITLE = "sigmoid neuron, float inputs, value + 5 gradients per call"
TEXT = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
NAMES = ("w0", "x0", "w1", "x1", "w2")
POINT = (2.0, -1.0, -3.0, -2.0, -3.0)
"""The lecture's point: the value is 0.73, ∂/∂w0 is −0.20."""
CASE = "value + 5 gradients"
CALL_TARGET = Target("≤ 1.1× hand-written", 1.1)
SYMPY_TARGET = Target("≤ 1.0 (no slower than SymPy)", 1.0)


def hand_written(w0: float, x0: float, w1: float, x1: float, w2: float) -> Result:
    """The baseline: staged backprop as the lecture writes it, `exp` a global name."""
    # forward pass
    dot = w0 * x0 + w1 * x1 + w2
    f = 1.0 / (1.0 + exp(-dot))
    # backward pass: the sigmoid gate's local gradient is (1 − σ)σ
    ddot = (1.0 - f) * f
    return f, {"w0": x0 * ddot, "x0": w0 * ddot, "w1": x1 * ddot, "x1": w1 * ddot, "w2": ddot}


def hand_written_stable(w0: float, x0: float, w1: float, x1: float, w2: float) -> Result:
    """The same with a sigmoid that cannot overflow (symbackprop's default computes this)."""
    dot = w0 * x0 + w1 * x1 + w2
    if dot >= 0.0:
        f = 1.0 / (1.0 + exp(-dot))
    else:
        exp_dot = exp(dot)
        f = exp_dot / (1.0 + exp_dot)
    ddot = (1.0 - f) * f
    return f, {"w0": x0 * ddot, "x0": w0 * ddot, "w1": x1 * ddot, "x1": w1 * ddot, "w2": ddot}


@dataclass
class Contender:
    """A way to compute the neuron: `evaluate(*point)` for the check, `stmt` for the timing."""

    name: str
    evaluate: Callable[..., Result] | None
    stmt: str = ""
    namespace: dict[str, Any] = field(default_factory=dict)
    status: str = ""
    note: str = ""
    target: Target | None = None


def check_points() -> list[tuple[float, ...]]:
    """The lecture's point and a few seeded random points, where every contender is checked."""
    rng = random.Random(6)
    points = [POINT]
    points += [tuple(rng.uniform(-3.0, 3.0) for _ in NAMES) for _ in range(3)]
    return points


def _namespace(function: Any) -> dict[str, Any]:
    return {"f": function, **dict(zip(NAMES, POINT, strict=True))}


POSITIONAL = "f(w0, x0, w1, x1, w2)"
KEYWORD = "f(w0=w0, x0=x0, w1=w1, x1=x1, w2=w2)"


def _from_list(outputs: Any) -> Result:
    values = [float(v) for v in outputs]
    return values[0], dict(zip(NAMES, values[1:], strict=True))


def symbackprop_contenders() -> list[Contender]:
    """symbackprop by keyword, by position, raw, and without the stable rewrite."""
    compiled = symbackprop.compile(TEXT)
    raw, where = raw_float_function(compiled)
    naive = symbackprop.compile(TEXT, rewrite=False)
    return [
        Contender(
            "symbackprop f(w0=..., ...) keyword",
            lambda *point: compiled(**dict(zip(NAMES, point, strict=True))),
            KEYWORD,
            _namespace(compiled),
            target=CALL_TARGET,
        ),
        Contender(
            "symbackprop f(*args) positional",
            compiled,
            POSITIONAL,
            _namespace(compiled),
            target=CALL_TARGET,
        ),
        Contender(
            "symbackprop raw generated function",
            raw,
            POSITIONAL,
            _namespace(raw),
            note=where,
            target=CALL_TARGET,
        ),
        Contender(
            "symbackprop f(*args), rewrite=False",
            naive,
            POSITIONAL,
            _namespace(naive),
            note="naive 1/(1+exp) gates as written, no stable sigmoid",
        ),
    ]


def sympy_contender() -> Contender:
    """SymPy: the expression built by hand, differentiated, `lambdify(modules="math", cse=True)`."""
    import sympy

    symbols = sympy.symbols(NAMES)
    w0, x0, w1, x1, w2 = symbols
    neuron = 1 / (1 + sympy.exp(-(w0 * x0 + w1 * x1 + w2)))
    expressions = [neuron, *(sympy.diff(neuron, symbol) for symbol in symbols)]
    function = sympy.lambdify(symbols, expressions, modules="math", cse=True)
    return Contender(
        "SymPy lambdify(math, cse=True)",
        lambda *point: _from_list(function(*point)),
        POSITIONAL,
        _namespace(function),
        note="returns a list [value, 5 partials]",
    )


def symengine_contender() -> Contender:
    """SymEngine's `Lambdify` of the value and the five partial derivatives, with cse."""
    symengine = optional("symengine")
    name = "SymEngine Lambdify(cse=True)"
    if symengine is None:
        return Contender(name, None, status=NOT_INSTALLED)
    symbols = symengine.symbols(" ".join(NAMES))
    w0, x0, w1, x1, w2 = symbols
    neuron = 1 / (1 + symengine.exp(-(w0 * x0 + w1 * x1 + w2)))
    expressions = [neuron, *(symengine.diff(neuron, symbol) for symbol in symbols)]
    function = symengine.Lambdify(list(symbols), expressions, cse=True)
    return Contender(
        name,
        lambda *point: _from_list(function(*point)),
        POSITIONAL,
        _namespace(function),
        note="returns a NumPy array of 6",
    )


def autograd_contender() -> Contender:
    """HIPS autograd's `value_and_grad` over the five arguments (tracing on every call)."""
    autograd = optional("autograd")
    name = "autograd value_and_grad"
    if autograd is None:
        return Contender(name, None, status=NOT_INSTALLED)
    import autograd.numpy as anp

    def neuron(w0: Any, x0: Any, w1: Any, x1: Any, w2: Any) -> Any:
        return 1.0 / (1.0 + anp.exp(-(w0 * x0 + w1 * x1 + w2)))

    function = autograd.value_and_grad(neuron, argnum=(0, 1, 2, 3, 4))

    def evaluate(*point: float) -> Result:
        value, gradients = function(*point)
        return float(value), {n: float(g) for n, g in zip(NAMES, gradients, strict=True)}

    return Contender(name, evaluate, POSITIONAL, _namespace(function))


def jax_contender() -> Contender:
    """JAX: `jit(value_and_grad)` in float64, timed until the result is ready."""
    jax = optional("jax")
    name = "JAX jit(value_and_grad)"
    if jax is None:
        return Contender(name, None, status=NOT_INSTALLED)
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    def neuron(w0: Any, x0: Any, w1: Any, x1: Any, w2: Any) -> Any:
        return 1.0 / (1.0 + jnp.exp(-(w0 * x0 + w1 * x1 + w2)))

    function = jax.jit(jax.value_and_grad(neuron, argnums=(0, 1, 2, 3, 4)))

    def evaluate(*point: float) -> Result:
        value, gradients = function(*point)
        return float(value), {n: float(g) for n, g in zip(NAMES, gradients, strict=True)}

    namespace = _namespace(function)
    namespace["ready"] = jax.block_until_ready
    return Contender(name, evaluate, "ready(f(w0, x0, w1, x1, w2))", namespace)


def torch_contender() -> Contender:
    """PyTorch eager autograd: five leaf tensors, forward, `backward()`, floats out."""
    torch = optional("torch")
    name = "PyTorch eager autograd"
    if torch is None:
        return Contender(name, None, status=NOT_INSTALLED)

    def value_and_grad(w0: float, x0: float, w1: float, x1: float, w2: float) -> Result:
        leaves = [
            torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (w0, x0, w1, x1, w2)
        ]
        a, b, c, d, e = leaves
        out = 1.0 / (1.0 + torch.exp(-(a * b + c * d + e)))
        out.backward()
        return out.item(), {n: t.grad.item() for n, t in zip(NAMES, leaves, strict=True)}

    return Contender(
        name,
        value_and_grad,
        POSITIONAL,
        _namespace(value_and_grad),
        note="includes making the leaf tensors and .item()",
    )


def contenders() -> list[Contender]:
    """Every contender after the baseline, in table order."""
    found = [
        Contender(
            "hand-written, stable sigmoid",
            hand_written_stable,
            POSITIONAL,
            _namespace(hand_written_stable),
            note="the branch symbackprop's sigmoid gate takes",
        ),
        *symbackprop_contenders(),
        sympy_contender(),
    ]
    for make in (symengine_contender, autograd_contender, jax_contender, torch_contender):
        try:
            found.append(make())
        except Exception as error:  # a peer that is installed but broken
            found.append(Contender(make.__name__, None, status=f"failed to set up: {error}"))
    return found


BASELINE_NAME = "hand-written staged Python (math)"


def run(config: Config) -> WorkloadResult:
    """Check every contender at several points, then time all calls interleaved (medians)."""
    result = WorkloadResult(NAME, TITLE)
    points = check_points()
    references = [hand_written(*point) for point in points]
    ready: list[Contender] = []
    rows: dict[str, Row] = {}
    order: list[str] = []
    for contender in contenders():
        order.append(contender.name)
        if contender.evaluate is None:
            rows[contender.name] = Row(NAME, CASE, contender.name, None, status=contender.status)
            continue
        try:
            for point, reference in zip(points, references, strict=True):
                check_result(contender.name, contender.evaluate(*point), reference)
        except ContenderMismatch as error:
            result.errors.append(str(error))
            rows[contender.name] = Row(NAME, CASE, contender.name, None, status="WRONG (not timed)")
            continue
        ready.append(contender)
    calls = {BASELINE_NAME: (POSITIONAL, _namespace(hand_written))}
    calls.update({contender.name: (contender.stmt, contender.namespace) for contender in ready})
    timings = measure_many(calls, config)
    baseline = timings[BASELINE_NAME].median
    note = "the lecture's staged backprop, exp bound to a global"
    result.add(baseline_row(NAME, CASE, BASELINE_NAME, timings[BASELINE_NAME], note))
    for contender in ready:
        rows[contender.name] = timed_row(
            NAME,
            CASE,
            contender.name,
            timings[contender.name],
            baseline,
            contender.target,
            contender.note,
        )
    for contender_name in order:
        result.add(rows[contender_name])
    positional = timings.get("symbackprop f(*args) positional")
    lambdified = timings.get("SymPy lambdify(math, cse=True)")
    if positional is not None and lambdified is not None:
        result.add(
            Row(
                NAME,
                CASE,
                "symbackprop f(*args) ÷ SymPy lambdify",
                positional.median / lambdified.median,
                RATIO,
                target=SYMPY_TARGET,
                target_on="value",
            )
        )
    return result
