"""Training loops: `minimize` (our optimizers) and `for_scipy` (SciPy's).

`minimize(src_or_f, params, data, optimizer, steps)` takes a loss formula (text or a
`CompiledFunction`), the starting values of the parameters and the fixed data (numbers or NumPy
arrays), and returns a `MinimizeResult`: the final parameters, the loss history, the number of
steps taken and whether the tolerance stopped it.

`scipy_objective(f, wrt, fixed)` (behind `CompiledFunction.for_scipy`) returns `fun(x) ->
(value, gradient)` over one flat float64 vector, as `scipy.optimize.minimize(fun, x0, jac=True)`
wants, and the `ParameterLayout` that maps parameter dicts to that vector and back.  SciPy itself
is never imported here: the objective only speaks NumPy.
"""

from __future__ import annotations

import math
import numbers
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np

from .errors import EvaluationError, SymbackpropError
from .function import CompiledFunction
from .optim import Adam, Optimizer, as_parameter
from .pipeline import compile as compile_text

Callback = Callable[[int, float, dict[str, Any]], Any]


class DivergenceError(SymbackpropError):
    """`minimize` could not go on: the loss became NaN or infinite, or evaluating it failed,
    after an update.

    `step` is the step at which it happened (0 is the starting point, before any update),
    `loss` the loss there (NaN when evaluating failed) and `params` the parameters there.
    """

    def __init__(
        self, message: str, step: int, loss: float, params: dict[str, Any] | None = None
    ) -> None:
        self.step = step
        self.loss = loss
        self.params = params
        super().__init__(message)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.message, self.step, self.loss, self.params))


@dataclass
class MinimizeResult:
    """What `minimize` returns.

    `params` are the final parameters; `history[k]` is the loss after k updates (`history[0]` at
    the starting point), so `history[-1]` is the loss at `params`; `steps` is the number of
    updates made; `converged` is True when the tolerance stopped the loop.
    """

    params: dict[str, Any]
    history: list[float] = field(repr=False)
    steps: int
    converged: bool

    @property
    def loss(self) -> float:
        """The loss at the final parameters."""
        return self.history[-1]


def minimize(
    src_or_f: CompiledFunction | str,
    params: Mapping[str, Any],
    data: Mapping[str, Any] | None = None,
    optimizer: Optimizer | None = None,
    steps: int = 1000,
    callback: Callback | None = None,
    tol: float | None = None,
    progress: bool | None = None,
) -> MinimizeResult:
    """Minimize a loss formula over `params` by gradient descent with `optimizer`.

    The loss is compiled with wrt = the names of `params` (a `CompiledFunction` must have them
    all in its `wrt`); every other input must be given in `data`, which stays fixed.  Each step
    runs `value, grads = f(**params, **data)` and `params = optimizer.step(params, grads)`.  An
    array-valued loss stands for the sum of its elements, as in `compile()`: write `/ n` in the
    formula for a mean.

    * `optimizer`: an `optim` optimizer, `Adam()` by default.  It keeps its state, so passing
      the same one again continues where it left off (`reset()` it to start afresh).
    * `steps`: the largest number of updates.
    * `callback(step, loss, params)` is called after each update with the loss at the new
      parameters; returning a true value (True, `loss < 1e-6` ...) stops the loop, returning
      None (or nothing) goes on.
    * `tol`: stop (with `converged=True`) when one update changes the loss by less than `tol`.
      It is a crude test — a loss can stall on a plateau, or oscillate — so check the result.
    * `progress`: show a progress bar with the current loss on standard error; by default only
      when standard error is a terminal.

    A NaN or infinite loss (or a failed evaluation after an update, such as `log` of a negative
    number) raises `DivergenceError`, naming the step.

    >>> from symbackprop.optim import SGD
    >>> result = minimize("(x - 3)**2", params={"x": 0.0}, optimizer=SGD(lr=0.1), steps=100)
    >>> round(result.params["x"], 6), result.steps, len(result.history)
    (3.0, 100, 101)
    """
    if not isinstance(params, Mapping):
        raise TypeError(
            f"params must map names to starting values, as {{'x': 0.0}}, not {params!r}"
        )
    if data is not None and not isinstance(data, Mapping):
        raise TypeError(f"data must map input names to values, not {data!r}")
    start = {name: as_parameter(name, value) for name, value in params.items()}
    if not start:
        raise SymbackpropError("minimize needs at least one parameter")
    fixed = dict(data or {})
    both = sorted(set(start) & set(fixed))
    if both:
        raise TypeError(f"{', '.join(map(repr, both))} given both as parameter and as data")
    function = _loss_function(src_or_f, tuple(start))
    optimizer = Adam() if optimizer is None else optimizer
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be one of symbackprop.optim's, not {optimizer!r}")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise SymbackpropError(f"steps must be a non-negative integer, got {steps!r}")
    steps = int(steps)  # NumPy's integers too, as range() takes them
    if tol is not None and (
        isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not tol > 0
    ):
        raise SymbackpropError(f"tol must be positive, got {tol!r}")
    show = _stderr_is_terminal() if progress is None else progress
    bar = _Progress(steps, sys.stderr) if show else None

    current = start
    value, grads = function(**current, **fixed)
    history = [_loss_at(0, value, current, None)]
    converged = False
    taken = 0
    try:
        if bar is not None:
            bar.update(0, history[0], force=True)
        for step in range(1, steps + 1):
            current = optimizer.step(current, grads)
            try:
                value, grads = function(**current, **fixed)
            except EvaluationError as error:
                raise DivergenceError(
                    f"evaluating the loss failed at step {step}, after an update: {error}",
                    step,
                    math.nan,
                    current,
                ) from error
            loss = _loss_at(step, value, current, history[-1])
            history.append(loss)
            taken = step
            if bar is not None:
                bar.update(step, loss, force=step == steps)
            if callback is not None and callback(step, loss, current):
                break
            if tol is not None and abs(loss - history[-2]) < tol:
                converged = True
                break
    finally:
        if bar is not None:
            bar.close(taken, history[-1])
    return MinimizeResult(params=current, history=history, steps=taken, converged=converged)


def _loss_function(src_or_f: CompiledFunction | str, names: tuple[str, ...]) -> CompiledFunction:
    if isinstance(src_or_f, str):
        function = compile_text(src_or_f)
        unknown = [name for name in names if name not in function.inputs]
        if unknown:
            raise SymbackpropError(
                f"{', '.join(map(repr, unknown))} {'is' if len(unknown) == 1 else 'are'} not "
                f"an input of the loss; its inputs are {', '.join(function.inputs) or 'none'}"
            )
        return compile_text(src_or_f, wrt=list(names))
    if not isinstance(src_or_f, CompiledFunction):
        raise TypeError(f"minimize takes formula text or a CompiledFunction, not {src_or_f!r}")
    lacking = [name for name in names if name not in src_or_f.wrt]
    if lacking:
        raise SymbackpropError(
            f"the function is compiled with wrt={list(src_or_f.wrt)}, without "
            f"{', '.join(map(repr, lacking))}: compile it with wrt={list(names)}"
        )
    return src_or_f


def _loss_at(step: int, value: Any, params: dict[str, Any], previous: float | None) -> float:
    """The loss as one float (an array's sum), or a `DivergenceError` when it is not finite."""
    loss = float(np.sum(value))
    if math.isfinite(loss):
        return loss
    if previous is None:
        message = (
            f"the loss is {loss} at the starting point (step 0), before any update: "
            "check the starting parameters and the data"
        )
    else:
        message = (
            f"the loss became {loss} at step {step} (it was {previous:.6g} at step {step - 1}): "
            "the updates diverged; try a smaller learning rate"
        )
    raise DivergenceError(message, step, loss, params)


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # no stream, or a closed one
        return False


class _Progress:
    """A one-line progress bar redrawn in place with '\\r', at most ten times a second."""

    WIDTH = 30
    INTERVAL = 0.1

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.stream = stream
        self.last = -math.inf
        self.length = 0

    def update(self, step: int, loss: float, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < self.INTERVAL:
            return
        self.last = now
        filled = self.WIDTH * step // self.total if self.total else self.WIDTH
        line = (
            f"minimize [{'#' * filled}{'.' * (self.WIDTH - filled)}] "
            f"{step}/{self.total} loss {loss:.6g}"
        )
        self.stream.write("\r" + line.ljust(self.length))
        self.stream.flush()
        self.length = len(line)

    def close(self, step: int, loss: float) -> None:
        """Show the last step, then end the line so that what follows starts on a new one."""
        if self.length:
            self.update(step, loss, force=True)
            self.stream.write("\n")
            self.stream.flush()


# ---------------------------------------------------------------------------------------------
# SciPy


@dataclass(frozen=True)
class ParameterLayout:
    """How a dict of parameters lies in one flat float64 vector, as SciPy's optimizers want.

    The parameters come in the order of `names`; each takes `prod(shape)` consecutive entries,
    an array raveled in C order (row by row), a number (shape `()`) one entry.

    >>> layout = ParameterLayout(("b", "w"), ((), (2, 2)))
    >>> x = layout.flatten({"w": [[1.0, 2.0], [3.0, 4.0]], "b": 0.5})
    >>> x
    array([0.5, 1. , 2. , 3. , 4. ])
    >>> layout.unflatten(x)
    {'b': 0.5, 'w': array([[1., 2.],
           [3., 4.]])}
    """

    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> ParameterLayout:
        """The layout of these values, in their order."""
        return cls(tuple(values), tuple(np.shape(value) for value in values.values()))

    @property
    def size(self) -> int:
        """The length of the flat vector."""
        return sum(math.prod(shape) for shape in self.shapes)

    def flatten(self, params: Mapping[str, Any]) -> np.ndarray:
        """The flat vector of `params` (other names in it, such as data, are ignored)."""
        pieces = []
        for name, shape in zip(self.names, self.shapes, strict=True):
            if name not in params:
                raise SymbackpropError(f"no value for parameter {name!r}")
            piece = np.asarray(params[name], dtype=np.float64)
            if piece.shape != shape:
                raise SymbackpropError(
                    f"parameter {name!r} has shape {piece.shape}, the layout {shape}"
                )
            pieces.append(piece.ravel())
        return np.concatenate(pieces) if pieces else np.zeros(0)

    def unflatten(self, x: Any) -> dict[str, Any]:
        """The dict of parameters in `x`: numbers as floats, arrays as new arrays (not views)."""
        flat = np.asarray(x, dtype=np.float64)
        if flat.shape != (self.size,):
            raise SymbackpropError(f"expected a vector of {self.size} numbers, got {flat.shape}")
        params: dict[str, Any] = {}
        offset = 0
        for name, shape in zip(self.names, self.shapes, strict=True):
            count = math.prod(shape)
            chunk = flat[offset : offset + count]
            params[name] = float(chunk[0]) if shape == () else chunk.reshape(shape).copy()
            offset += count
        return params


Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


def scipy_objective(
    function: CompiledFunction, wrt: Iterable[str] | str | None, given: Mapping[str, Any]
) -> tuple[Objective, ParameterLayout]:
    """`fun(x) -> (value, gradient)` over a flat vector, and the layout of that vector.

    `wrt` names the parameters (default: the function's `wrt` not in `given`), in the order they
    take in the vector.  A parameter's value in `given` is only a template: its shape fixes the
    layout (a parameter not given is a number).  The other inputs in `given` are fixed data.
    This is `CompiledFunction.for_scipy`; see its documentation.
    """
    if wrt is None:
        names = tuple(name for name in function.wrt if name not in given)
    else:
        names = (wrt,) if isinstance(wrt, str) else tuple(wrt)
    if len(set(names)) != len(names):
        raise SymbackpropError(f"wrt names a parameter more than once: {', '.join(names)}")
    if not names:
        raise SymbackpropError("for_scipy needs at least one parameter in wrt")
    for name in names:
        if name not in function.wrt:
            raise SymbackpropError(
                f"{name!r} is not among the function's gradients (wrt={list(function.wrt)}); "
                "compile the formula with it in wrt"
            )
    unknown = [name for name in given if name not in function.inputs]
    if unknown:
        raise TypeError(
            f"unexpected input {unknown[0]!r}; the inputs are {', '.join(function.inputs)}"
        )
    fixed = {name: value for name, value in given.items() if name not in names}
    missing = [name for name in function.inputs if name not in fixed and name not in names]
    if missing:
        raise TypeError(f"missing inputs (neither in wrt nor given): {', '.join(missing)}")
    layout = ParameterLayout.of(
        {name: as_parameter(name, given[name]) if name in given else 0.0 for name in names}
    )

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        """The loss and its gradient at the parameters packed in `x`."""
        value, grads = function(**layout.unflatten(x), **fixed)
        return float(np.sum(value)), layout.flatten(grads)

    return fun, layout


__all__ = [
    "DivergenceError",
    "MinimizeResult",
    "ParameterLayout",
    "minimize",
    "scipy_objective",
]
