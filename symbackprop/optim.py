"""Optimizers: the lecture's parameter updates, from plain SGD to Adam.

Each optimizer takes a dict of parameters `{name: float or NumPy array}` and a dict of gradients
with the same names (what a compiled function returns), and `step(params, grads)` returns a NEW
dict of updated parameters.  Nothing is updated in place: the arrays you pass in are never
modified, so a snapshot you kept (or the starting point) stays what it was, at the cost of one
new array per parameter and step.  Python numbers come back as Python floats (so float-mode
formulas stay on their fast path), arrays as float arrays of the same shape and dtype.

The optimizer keeps its state — velocities, accumulated squared gradients, moment estimates, the
step count `t` — as plain attributes keyed by parameter name, so it can be inspected between
steps; `reset()` forgets it.  Gradients of names that are not parameters are ignored (a function
compiled for all its inputs also returns the gradients of its data).

    >>> from symbackprop import optim
    >>> opt = optim.SGD(lr=0.1)
    >>> opt.step({"x": 1.0}, {"x": 2.0})
    {'x': 0.8}
"""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

import numpy as np

from .errors import SymbackpropError

Params = dict[str, Any]


class Optimizer(ABC):
    """The common part: checking the dicts, turning values into floats or float arrays.

    Subclasses implement `_update(name, x, g)`, which returns the new value of one parameter and
    updates that parameter's state; `x` and `g` are both Python floats or both float arrays.
    """

    #: the state dicts that `reset()` clears, by attribute name
    _state: tuple[str, ...] = ()

    def __init__(self, lr: float) -> None:
        self.lr = _hyper("lr", lr, low=0.0, low_open=True)
        #: the number of steps taken so far
        self.t = 0
        self._shapes: dict[str, tuple[int, ...]] = {}

    def step(self, params: Mapping[str, Any], grads: Mapping[str, Any]) -> Params:
        """One update of every parameter; returns a new dict, in the order of `params`.

        An array parameter keeps its dtype: the update is computed in at least float32 (so a
        float16 parameter's state does not round away small steps), then cast back.
        """
        for what, mapping in (("params", params), ("grads", grads)):
            if not isinstance(mapping, Mapping):
                raise TypeError(
                    f"{what} must map parameter names to values, as {{'x': 1.0}}, "
                    f"not {type(mapping).__name__}"
                )
        values = {name: as_parameter(name, value) for name, value in params.items()}
        gradients = {name: self._gradient(name, values[name], grads) for name in values}
        self.t += 1
        return {
            name: _like(values[name], self._update(name, values[name], gradients[name]))
            for name in values
        }

    def reset(self) -> None:
        """Forget the state (velocities, accumulators, step count): start afresh."""
        self.t = 0
        self._shapes.clear()
        for attribute in self._state:
            getattr(self, attribute).clear()

    @abstractmethod
    def _update(self, name: str, x: Any, g: Any) -> Any:
        """One parameter's new value from its value `x` and gradient `g` (the update rule)."""

    def _gradient(self, name: str, x: Any, grads: Mapping[str, Any]) -> Any:
        if name not in grads:
            raise SymbackpropError(
                f"no gradient for parameter {name!r}: the gradients are for "
                f"{', '.join(map(repr, grads)) or 'nothing'}"
            )
        g = grads[name]
        if np.iscomplexobj(g):  # casting to float would drop the imaginary part silently
            raise TypeError(f"the gradient of {name!r} must be real, not complex")
        if isinstance(x, float):
            if not isinstance(g, numbers.Real) and np.shape(g) != ():
                raise SymbackpropError(
                    f"the gradient of the number {name!r} has shape {np.shape(g)}, not a number"
                )
            return float(g)
        g = np.asarray(g, dtype=np.result_type(x.dtype, np.float32))
        if g.shape != x.shape:
            raise SymbackpropError(
                f"the gradient of {name!r} has shape {g.shape}, the parameter {x.shape}"
            )
        previous = self._shapes.setdefault(name, x.shape)
        if previous != x.shape:
            raise SymbackpropError(
                f"parameter {name!r} changed shape from {previous} to {x.shape}; "
                "call reset() to start afresh"
            )
        return g

    def __repr__(self) -> str:
        hyper = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._hyper_names())
        return f"{type(self).__name__}({hyper})"

    def _hyper_names(self) -> tuple[str, ...]:
        return ("lr",)


class SGD(Optimizer):
    """Vanilla gradient descent, the lecture's update: x += −lr · g.

    `lr` is the step size (learning rate).  No state but the step count.
    """

    def _update(self, name: str, x: Any, g: Any) -> Any:
        return x - self.lr * g


class Momentum(Optimizer):
    """SGD with momentum: v = μ·v − lr·g;  x += v.

    The velocity `v` (`self.velocity[name]`, zero at first) accumulates an exponentially
    decaying sum of past gradients, so steps grow along directions where the gradient keeps its
    sign and oscillations across a narrow valley cancel out.  `momentum` (μ) is the decay, 0.9
    by default: a gradient's influence halves in about 7 steps.
    """

    _state = ("velocity",)

    def __init__(self, lr: float, momentum: float = 0.9) -> None:
        super().__init__(lr)
        self.momentum = _hyper("momentum", momentum, low=0.0, high=1.0)
        #: v per parameter
        self.velocity: Params = {}

    def _update(self, name: str, x: Any, g: Any) -> Any:
        v = self.momentum * self.velocity.get(name, 0.0) - self.lr * g
        self.velocity[name] = v
        return x + v

    def _hyper_names(self) -> tuple[str, ...]:
        return ("lr", "momentum")


class Nesterov(Momentum):
    """Nesterov momentum, in CS231n's look-ahead form: v' = μ·v − lr·g;  x += −μ·v + (1+μ)·v'.

    Nesterov evaluates the gradient after the momentum step, at x + μ·v, as a correction of
    where momentum is about to carry the parameters.  Rewritten in terms of that look-ahead
    point, the update only needs the gradient at the current parameters: the parameters this
    optimizer holds *are* the look-ahead points, and the update above moves them from one
    look-ahead point to the next (v is the previous velocity, v' the new one).
    """

    def _update(self, name: str, x: Any, g: Any) -> Any:
        previous = self.velocity.get(name, 0.0)
        v = self.momentum * previous - self.lr * g
        self.velocity[name] = v
        return x - self.momentum * previous + (1.0 + self.momentum) * v


class AdaGrad(Optimizer):
    """AdaGrad: cache += g²;  x += −lr · g / (√cache + eps).

    Each coordinate gets its own step size, divided by the square root of the sum of all its
    squared gradients so far (`self.cache[name]`): steep coordinates slow down, flat ones keep
    moving.  The sum only grows, so the steps shrink over time.  `eps` avoids dividing by zero.
    """

    _state = ("cache",)

    def __init__(self, lr: float, eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.eps = _hyper("eps", eps, low=0.0)
        #: the sum of squared gradients per parameter
        self.cache: Params = {}

    def _update(self, name: str, x: Any, g: Any) -> Any:
        cache = self.cache.get(name, 0.0) + g * g
        self.cache[name] = cache
        return x - self.lr * g / (_sqrt(cache) + self.eps)

    def _hyper_names(self) -> tuple[str, ...]:
        return ("lr", "eps")


class RMSProp(Optimizer):
    """RMSProp: cache = ρ·cache + (1 − ρ)·g²;  x += −lr · g / (√cache + eps).

    AdaGrad with a leaky average instead of a sum (`self.cache[name]`), so the step sizes adapt
    to recent gradients instead of shrinking forever.  `decay` is ρ, 0.9 by default.
    """

    _state = ("cache",)

    def __init__(self, lr: float, decay: float = 0.9, eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.decay = _hyper("decay", decay, low=0.0, high=1.0)
        self.eps = _hyper("eps", eps, low=0.0)
        #: the leaky average of squared gradients per parameter
        self.cache: Params = {}

    def _update(self, name: str, x: Any, g: Any) -> Any:
        cache = self.decay * self.cache.get(name, 0.0) + (1.0 - self.decay) * g * g
        self.cache[name] = cache
        return x - self.lr * g / (_sqrt(cache) + self.eps)

    def _hyper_names(self) -> tuple[str, ...]:
        return ("lr", "decay", "eps")


class Adam(Optimizer):
    """Adam: momentum and RMSProp together, with bias correction.

        t += 1
        m = β1·m + (1 − β1)·g              (self.m[name]: the mean of the gradients)
        v = β2·v + (1 − β2)·g²             (self.v[name]: the mean of their squares)
        m̂ = m / (1 − β1^t);  v̂ = v / (1 − β2^t)
        x += −lr · m̂ / (√v̂ + eps)

    m and v start at zero, which biases them towards zero in the first steps; dividing by
    1 − β^t undoes that, so the first step has size about lr whatever the gradient's scale.
    `t` is the optimizer's step count, shared by all parameters.
    """

    _state = ("m", "v")

    def __init__(
        self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        super().__init__(lr)
        self.beta1 = _hyper("beta1", beta1, low=0.0, high=1.0)
        self.beta2 = _hyper("beta2", beta2, low=0.0, high=1.0)
        self.eps = _hyper("eps", eps, low=0.0)
        #: the first-moment (mean) estimate per parameter
        self.m: Params = {}
        #: the second-moment (uncentred variance) estimate per parameter
        self.v: Params = {}

    def _update(self, name: str, x: Any, g: Any) -> Any:
        m = self.beta1 * self.m.get(name, 0.0) + (1.0 - self.beta1) * g
        v = self.beta2 * self.v.get(name, 0.0) + (1.0 - self.beta2) * g * g
        self.m[name] = m
        self.v[name] = v
        m_hat = m / (1.0 - self.beta1**self.t)
        v_hat = v / (1.0 - self.beta2**self.t)
        return x - self.lr * m_hat / (_sqrt(v_hat) + self.eps)

    def _hyper_names(self) -> tuple[str, ...]:
        return ("lr", "beta1", "beta2", "eps")


#: The optimizers by their command-line names.
OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": AdaGrad,
    "rmsprop": RMSProp,
    "adam": Adam,
}


def as_parameter(name: str, value: Any) -> Any:
    """A parameter as the optimizers hold it: a Python float, or a float NumPy array (a copy
    only when the value is not already a float array).  Lists become arrays, integers floats.
    """
    if isinstance(value, numbers.Real) and not isinstance(value, np.ndarray):
        return float(value)
    try:
        array = np.asarray(value)
    except Exception as error:
        raise TypeError(f"parameter {name!r} must be a number or an array of numbers") from error
    if array.dtype.kind == "f":
        return array
    if array.dtype.kind in "biu":
        return array.astype(np.float64)
    raise TypeError(f"parameter {name!r} must be real numbers, not {array.dtype} values")


def _like(x: Any, new: Any) -> Any:
    """The updated value `new` in the parameter `x`'s dtype (a float stays a float)."""
    if isinstance(x, np.ndarray) and isinstance(new, np.ndarray) and new.dtype != x.dtype:
        return new.astype(x.dtype)
    return new


def _sqrt(value: Any) -> Any:
    return math.sqrt(value) if isinstance(value, float) else np.sqrt(value)


def _hyper(
    name: str,
    value: float,
    low: float,
    high: float | None = None,
    low_open: bool = False,
) -> float:
    """A hyper-parameter as a float, checked against its range [low, high) or (low, high)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    number = float(value)
    too_low = number <= low if low_open else number < low
    if not math.isfinite(number) or too_low or (high is not None and number >= high):
        if high is not None:
            wanted = f"in [{low:g}, {high:g})"
        else:
            wanted = "positive" if low_open else "non-negative"
        raise SymbackpropError(f"{name} must be {wanted}, got {value!r}")
    return number


__all__ = [
    "OPTIMIZERS",
    "SGD",
    "AdaGrad",
    "Adam",
    "Momentum",
    "Nesterov",
    "Optimizer",
    "RMSProp",
]
