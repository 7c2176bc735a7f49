"""Matrix workloads, which need symbackprop's vector language (issue 5): ‖W·x‖² here, the SVM
loss in `svm`.

Their hand-written NumPy baselines are timed in any case.  symbackprop is measured once
`symbackprop.compile("A @ x")` compiles; until then its row says "needs the vector language
(issue 5)", so the workloads light up by themselves when the language lands.
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
    NEEDS_VECTOR_LANGUAGE,
    NOT_INSTALLED,
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

MATRIX_TARGET = Target("≤ 1.1× hand-written NumPy", 1.1)
"""Issue 6's target for the matrix workloads, where BLAS does most of the work on both sides."""
CHECK_RTOL = 1e-7
"""BLAS sums in a different order than the hand-written code may."""


def vector_language() -> str | None:
    """None when symbackprop compiles `A @ x`; else why not (the error's message)."""
    try:
        symbackprop.compile("A @ x")
    except symbackprop.SymbackpropError as error:
        return getattr(error, "message", str(error))
    return None


@dataclass
class MatrixSpec:
    """A matrix workload: the program, its inputs, and the hand-written baseline."""

    name: str
    title: str
    text: str
    wrt: tuple[str, ...]
    inputs: dict[str, Any]
    hand_written: Callable[..., Result]
    """Called with the inputs by name."""
    autograd: Callable[[Any], Callable[..., Result]] | None = None
    """Given `autograd`, a value-and-gradient function called with the inputs by name."""
    notes: list[str] = field(default_factory=list)


def run_spec(spec: MatrixSpec, config: Config) -> WorkloadResult:
    """Check and time the baseline, symbackprop (if it has the vector language) and autograd."""
    result = WorkloadResult(spec.name, spec.title)
    case = "value + gradients"
    memory_case = "peak extra memory, one call"
    inputs = spec.inputs
    reference = spec.hand_written(**inputs)
    call = "f(" + ", ".join(f"{name}={name}" for name in inputs) + ")"
    calls: dict[str, tuple[str, dict[str, Any]]] = {
        "hand-written NumPy": (call, {"f": spec.hand_written, **inputs})
    }
    functions: dict[str, Callable[..., Any]] = {"hand-written NumPy": spec.hand_written}
    pending: list[Row] = []
    targets: dict[str, Target] = {}

    missing = vector_language()
    contender = "symbackprop f(**inputs)"
    if missing is not None:
        pending.append(
            Row(spec.name, case, contender, None, status=NEEDS_VECTOR_LANGUAGE, note=missing)
        )
    else:
        try:
            compiled = symbackprop.compile(spec.text, wrt=list(spec.wrt))
        except symbackprop.SymbackpropError as error:
            message = getattr(error, "message", str(error))
            pending.append(
                Row(spec.name, case, contender, None, status=f"does not compile yet: {message}")
            )
        else:
            try:
                check_result(contender, compiled(**inputs), reference, CHECK_RTOL)
            except ContenderMismatch as error:
                result.errors.append(str(error))
                pending.append(Row(spec.name, case, contender, None, status="WRONG (not timed)"))
            else:
                calls[contender] = (call, {"f": compiled, **inputs})
                functions[contender] = compiled
                targets[contender] = MATRIX_TARGET

    autograd = optional("autograd")
    if spec.autograd is not None:
        name = "autograd value_and_grad"
        if autograd is None:
            pending.append(Row(spec.name, case, name, None, status=NOT_INSTALLED))
        else:
            function = spec.autograd(autograd)
            try:
                check_result(name, function(**inputs), reference, CHECK_RTOL)
            except ContenderMismatch as error:
                result.errors.append(str(error))
                pending.append(Row(spec.name, case, name, None, status="WRONG (not timed)"))
            else:
                calls[name] = (call, {"f": function, **inputs})
                functions[name] = function

    timings = measure_many(calls, config)
    baseline = timings["hand-written NumPy"]
    result.add(baseline_row(spec.name, case, "hand-written NumPy", baseline))
    for name, timing in timings.items():
        if name != "hand-written NumPy":
            result.add(timed_row(spec.name, case, name, timing, baseline.median, targets.get(name)))
    for row in pending:
        result.add(row)

    base_memory = peak_memory(lambda: spec.hand_written(**inputs))
    result.add(
        Row(spec.name, memory_case, "hand-written NumPy", base_memory, BYTES, status=BASELINE)
    )
    for name, function in functions.items():
        if name == "hand-written NumPy":
            continue
        used = peak_memory(lambda function=function: function(**inputs))  # type: ignore[misc]
        target = memory_target(base_memory) if name.startswith("symbackprop") else None
        result.add(
            Row(
                spec.name,
                memory_case,
                name,
                used,
                BYTES,
                ratio=used / max(base_memory, 1),
                target=target,
            )
        )
    result.notes += spec.notes
    return result


# -- ‖W·x‖² --------------------------------------------------------------------------------------

NAME = "matrix-norm"


def norm_hand_written(W: Any, x: Any) -> Result:
    """‖W·x‖² and its gradients: y = W·x, value y·y, ∂/∂W = 2·y xᵀ, ∂/∂x = 2·Wᵀy."""
    y = W @ x
    value = float(y @ y)
    y *= 2.0  # the upstream gradient at y, in y's buffer
    return value, {"W": np.outer(y, x), "x": y @ W}


def norm_autograd(autograd: Any) -> Callable[..., Result]:
    """The same loss differentiated by autograd."""
    import autograd.numpy as anp

    function = autograd.value_and_grad(lambda W, x: anp.sum((W @ x) ** 2), argnum=(0, 1))

    def value_and_grad(W: Any, x: Any) -> Result:
        value, (dW, dx) = function(W, x)
        return value, {"W": dW, "x": dx}

    return value_and_grad


def norm_spec(config: Config) -> MatrixSpec:
    """W n×n and x n, n = 1000 in the full run."""
    n = max(2, round(1000 * config.matrix_scale))
    rng = np.random.default_rng(6)
    return MatrixSpec(
        name=NAME,
        title=f"‖W·x‖², W {n}×{n}, x {n}, value + ∂/∂W + ∂/∂x",
        text="y = W @ x\nsum(y * y)",
        wrt=("W", "x"),
        inputs={"W": rng.standard_normal((n, n)), "x": rng.standard_normal(n)},
        hand_written=norm_hand_written,
        autograd=norm_autograd,
        notes=["∂/∂W is an n×n outer product: its allocation dominates the memory"],
    )


def run(config: Config) -> WorkloadResult:
    """The ‖W·x‖² workload."""
    return run_spec(norm_spec(config), config)
