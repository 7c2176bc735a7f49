"""Workload 2 — arrays: the sigmoid neuron with five float64 arrays of 1,000,000 elements.

Measures value + gradients against hand-written NumPy (staged, reusing its buffers with `out=`
as an expert would), the forward pass alone (the cheap-gradient principle: value + gradients
should cost at most 3× the forward pass), and the peak memory a call allocates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import symbackprop

from .core import (
    BASELINE,
    BYTES,
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
    memory_target,
    peak_memory,
    timed_row,
)
from .peers import optional
from .scalar import NAMES, TEXT

NAME = "arrays"
TITLE = "sigmoid neuron, five float64 arrays, value + 5 gradients"
ARRAY_TARGET = Target("≤ 1.0× hand-written NumPy", 1.0)
CHEAP_GRADIENT_TARGET = Target("≤ 3× forward", 3.0)
BASELINE_NAME = "hand-written NumPy (out= buffers)"
FORWARD_BASELINE_NAME = "hand-written NumPy forward"


def hand_written(w0: Any, x0: Any, w1: Any, x1: Any, w2: Any) -> Result:
    """The baseline: staged NumPy that allocates only the six arrays it returns.

    The forward buffer `s` becomes the value and the scratch buffer `t` the upstream gradient
    `ddot`, then ∂/∂w2; every ufunc after the first two writes in place.
    """
    s = np.multiply(w0, x0)
    t = np.multiply(w1, x1)
    s += t
    s += w2
    np.negative(s, out=s)
    np.exp(s, out=s)
    s += 1.0
    np.reciprocal(s, out=s)  # s = σ(w0·x0 + w1·x1 + w2)
    np.subtract(1.0, s, out=t)
    t *= s  # t = (1 − σ)σ, the gradient at the dot product
    return s, {"w0": x0 * t, "x0": w0 * t, "w1": x1 * t, "x1": w1 * t, "w2": t}


def hand_written_forward(w0: Any, x0: Any, w1: Any, x1: Any, w2: Any) -> Any:
    """The forward pass alone, with the same buffers."""
    s = np.multiply(w0, x0)
    t = np.multiply(w1, x1)
    s += t
    s += w2
    np.negative(s, out=s)
    np.exp(s, out=s)
    s += 1.0
    np.reciprocal(s, out=s)
    return s


def hand_written_plain(w0: Any, x0: Any, w1: Any, x1: Any, w2: Any) -> Result:
    """NumPy as most people write it: the same staging, plain expressions, no `out=`."""
    dot = w0 * x0 + w1 * x1 + w2
    f = 1.0 / (1.0 + np.exp(-dot))
    ddot = (1.0 - f) * f
    return f, {"w0": x0 * ddot, "x0": w0 * ddot, "w1": x1 * ddot, "x1": w1 * ddot, "w2": ddot}


def inputs(size: int) -> tuple[np.ndarray, ...]:
    """Five seeded standard-normal float64 arrays."""
    rng = np.random.default_rng(6)
    return tuple(rng.standard_normal(size) for _ in NAMES)


POSITIONAL = "f(w0, x0, w1, x1, w2)"


@dataclass
class Contender:
    """A way to compute value + gradients of the neuron on arrays."""

    name: str
    evaluate: Callable[..., Result] | None
    stmt: str = POSITIONAL
    namespace: dict[str, Any] = field(default_factory=dict)
    status: str = ""
    note: str = ""
    target: Target | None = None
    memory: bool = False
    """Whether its peak memory is measured (tracemalloc sees NumPy's buffers, not torch's)."""


def _from_list(outputs: Any) -> Result:
    return outputs[0], dict(zip(NAMES, outputs[1:], strict=True))


def contenders(arrays: tuple[np.ndarray, ...]) -> list[Contender]:
    """Every contender after the baseline, in table order."""

    def namespace(function: Any, **extra: Any) -> dict[str, Any]:
        return {"f": function, **dict(zip(NAMES, arrays, strict=True)), **extra}

    compiled = symbackprop.compile(TEXT)
    found = [
        Contender(
            "hand-written NumPy, plain expressions",
            hand_written_plain,
            namespace=namespace(hand_written_plain),
            memory=True,
        ),
        Contender(
            "symbackprop f(*arrays)",
            compiled,
            namespace=namespace(compiled),
            target=ARRAY_TARGET,
            memory=True,
            note="stable sigmoid gate, buffers reused with out=",
        ),
        Contender(
            "symbackprop f(*arrays), rewrite=False",
            (naive := symbackprop.compile(TEXT, rewrite=False)),
            namespace=namespace(naive),
            memory=True,
            note="naive 1/(1+exp) gates as written",
        ),
    ]
    import sympy

    symbols = sympy.symbols(NAMES)
    w0, x0, w1, x1, w2 = symbols
    neuron = 1 / (1 + sympy.exp(-(w0 * x0 + w1 * x1 + w2)))
    expressions = [neuron, *(sympy.diff(neuron, symbol) for symbol in symbols)]
    lambdified = sympy.lambdify(symbols, expressions, modules="numpy", cse=True)
    found.append(
        Contender(
            "SymPy lambdify(numpy, cse=True)",
            lambda *a: _from_list(lambdified(*a)),
            namespace=namespace(lambdified),
            memory=True,
        )
    )
    for make in (_autograd, _jax, _torch):
        try:
            found.append(make(arrays))
        except Exception as error:  # installed but broken
            found.append(Contender(make.__name__, None, status=f"failed to set up: {error}"))
    return found


def _autograd(arrays: tuple[np.ndarray, ...]) -> Contender:
    autograd = optional("autograd")
    name = "autograd make_vjp"
    if autograd is None:
        return Contender(name, None, status=NOT_INSTALLED)
    import autograd.numpy as anp

    def neuron(w0: Any, x0: Any, w1: Any, x1: Any, w2: Any) -> Any:
        return 1.0 / (1.0 + anp.exp(-(w0 * x0 + w1 * x1 + w2)))

    make_vjp = autograd.make_vjp(neuron, argnum=(0, 1, 2, 3, 4))

    def value_and_grad(*args: Any) -> Result:
        vjp, value = make_vjp(*args)
        return value, dict(zip(NAMES, vjp(np.ones_like(value)), strict=True))

    return Contender(
        name,
        value_and_grad,
        namespace={"f": value_and_grad, **dict(zip(NAMES, arrays, strict=True))},
        memory=True,
    )


def _jax(arrays: tuple[np.ndarray, ...]) -> Contender:
    jax = optional("jax")
    name = "JAX jit(vjp)"
    if jax is None:
        return Contender(name, None, status=NOT_INSTALLED)
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    def neuron(w0: Any, x0: Any, w1: Any, x1: Any, w2: Any) -> Any:
        return 1.0 / (1.0 + jnp.exp(-(w0 * x0 + w1 * x1 + w2)))

    def value_and_grad(*args: Any) -> Any:
        value, pullback = jax.vjp(neuron, *args)
        return value, pullback(jnp.ones_like(value))

    function = jax.jit(value_and_grad)
    device = [jax.device_put(array) for array in arrays]

    def evaluate(*args: Any) -> Result:
        value, gradients = function(*args)
        return np.asarray(value), {n: np.asarray(g) for n, g in zip(NAMES, gradients, strict=True)}

    return Contender(
        name,
        evaluate,
        "ready(f(w0, x0, w1, x1, w2))",
        {"f": function, "ready": jax.block_until_ready, **dict(zip(NAMES, device, strict=True))},
        note="inputs already on the device",
    )


def _torch(arrays: tuple[np.ndarray, ...]) -> Contender:
    torch = optional("torch")
    name = "PyTorch eager autograd"
    if torch is None:
        return Contender(name, None, status=NOT_INSTALLED)

    def value_and_grad(*args: Any) -> Result:
        leaves = [torch.from_numpy(array).requires_grad_() for array in args]
        a, b, c, d, e = leaves
        out = 1.0 / (1.0 + torch.exp(-(a * b + c * d + e)))
        out.backward(torch.ones_like(out))
        return out.detach().numpy(), {n: t.grad.numpy() for n, t in zip(NAMES, leaves, strict=True)}

    return Contender(
        name,
        value_and_grad,
        namespace={"f": value_and_grad, **dict(zip(NAMES, arrays, strict=True))},
        note="NumPy in and out, zero-copy",
    )


def run(config: Config) -> WorkloadResult:
    """Check, then time value + gradients and the forward passes interleaved; then memory."""
    size = config.array_size
    result = WorkloadResult(NAME, f"{TITLE} ({size:,} elements each)")
    arrays = inputs(size)
    args = dict(zip(NAMES, arrays, strict=True))
    case = "value + 5 gradients"
    forward_case = "forward pass alone"
    memory_case = "peak extra memory, one call"
    reference = hand_written(*arrays)
    check_result("hand-written NumPy plain", hand_written_plain(*arrays), reference)
    compiled = symbackprop.compile(TEXT)
    check_result(
        "symbackprop f.value", (compiled.value(*arrays), {}), (hand_written_forward(*arrays), {})
    )
    ready: list[Contender] = []
    rows: dict[str, Row] = {}
    order: list[str] = []
    for contender in contenders(arrays):
        order.append(contender.name)
        if contender.evaluate is None:
            rows[contender.name] = Row(NAME, case, contender.name, None, status=contender.status)
            continue
        try:
            check_result(contender.name, contender.evaluate(*arrays), reference)
        except ContenderMismatch as error:
            result.errors.append(str(error))
            rows[contender.name] = Row(NAME, case, contender.name, None, status="WRONG (not timed)")
            continue
        ready.append(contender)
    calls: dict[str, tuple[str, dict[str, Any]]] = {
        BASELINE_NAME: (POSITIONAL, {"f": hand_written, **args}),
        FORWARD_BASELINE_NAME: (POSITIONAL, {"f": hand_written_forward, **args}),
        "symbackprop f.value(*arrays)": (POSITIONAL, {"f": compiled.value, **args}),
    }
    calls.update({contender.name: (contender.stmt, contender.namespace) for contender in ready})
    timings = measure_many(calls, config)
    baseline = timings[BASELINE_NAME].median
    result.add(
        baseline_row(
            NAME,
            case,
            BASELINE_NAME,
            timings[BASELINE_NAME],
            "allocates only the 6 arrays it returns",
        )
    )
    for contender in ready:
        rows[contender.name] = timed_row(
            NAME,
            case,
            contender.name,
            timings[contender.name],
            baseline,
            contender.target,
            contender.note,
        )
    for contender_name in order:
        result.add(rows[contender_name])

    forward = timings[FORWARD_BASELINE_NAME]
    result.add(baseline_row(NAME, forward_case, FORWARD_BASELINE_NAME, forward))
    sb_forward = timings["symbackprop f.value(*arrays)"]
    result.add(
        timed_row(NAME, forward_case, "symbackprop f.value(*arrays)", sb_forward, forward.median)
    )
    result.add(
        Row(
            NAME,
            "value+grad ÷ forward",
            "hand-written NumPy",
            baseline / forward.median,
            RATIO,
            target=CHEAP_GRADIENT_TARGET,
            target_on="value",
        )
    )
    if "symbackprop f(*arrays)" in timings:
        result.add(
            Row(
                NAME,
                "value+grad ÷ forward",
                "symbackprop",
                timings["symbackprop f(*arrays)"].median / sb_forward.median,
                RATIO,
                target=CHEAP_GRADIENT_TARGET,
                target_on="value",
            )
        )

    base_memory = peak_memory(lambda: hand_written(*arrays))
    result.add(Row(NAME, memory_case, BASELINE_NAME, base_memory, BYTES, status=BASELINE))
    for contender in ready:
        if not contender.memory or contender.evaluate is None:
            continue
        evaluate = contender.evaluate
        used = peak_memory(lambda evaluate=evaluate: evaluate(*arrays))  # type: ignore[misc]
        target = memory_target(base_memory) if contender.name == "symbackprop f(*arrays)" else None
        result.add(
            Row(
                NAME,
                memory_case,
                contender.name,
                used,
                BYTES,
                ratio=used / base_memory,
                target=target,
            )
        )
    result.notes.append(
        f"the 6 returned arrays alone take {6 * size * 8 / 1e6:.3g} MB; memory is tracemalloc's "
        "peak during one warm call (NumPy buffers; PyTorch and JAX memory is not seen)"
    )
    return result
