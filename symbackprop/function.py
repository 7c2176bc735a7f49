"""The compiled function users hold: calling conventions, float/array dispatch, located errors.

A `CompiledFunction` wraps the generated `value_and_grad` and `value` of both numeric modes.
Python numbers go to the float-mode code (the `math` module, fastest for scalars); anything else
is converted to NumPy arrays and goes to the array-mode code, emitted on first use.  A float-mode
failure (math domain error, division by zero, overflow) becomes an `EvaluationError` pointing at
the sub-expression whose gate failed.  Imports `errors`, `emit`, `backprop` and `load`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from .backprop import Backward
from .emit import ARRAY, FLOAT, VALUE, VALUE_AND_GRAD, Module, emit
from .errors import EvaluationError, SymbackpropError
from .load import load, source_filename
from .rewrite import Rewrite, rewrites_in

GradientFunction = Callable[..., tuple[Any, dict[str, Any]]]


class CompiledFunction:
    """A formula compiled to `f(*inputs) -> (value, gradients)`.

    >>> import symbackprop
    >>> f = symbackprop.compile("(x + y) * z")
    >>> f(-2, 5, -4)
    (-12.0, {'x': -4.0, 'y': -4.0, 'z': 3.0})
    >>> f.value(x=-2, y=5, z=-4)
    -12.0

    `inputs` are the formula's free names in order of first appearance; `wrt` the inputs whose
    gradients are returned, in that order; `source` the generated float-mode Python.
    """

    def __init__(
        self, text: str, wrt: tuple[str, ...], backward: Backward, options: dict[str, Any]
    ) -> None:
        self.text = text
        self.inputs: tuple[str, ...] = backward.graph.inputs
        self.wrt = wrt
        self.backward = backward
        self._options = options
        self._modules: dict[str, Module] = {}
        self._functions: dict[str, dict[str, Callable[..., Any]]] = {}
        self._lock = threading.Lock()
        self._ensure(FLOAT)
        self._float_value_and_grad = self._functions[FLOAT][VALUE_AND_GRAD]
        self._float_value = self._functions[FLOAT][VALUE]
        self._positions = {name: position for position, name in enumerate(self.inputs)}

    # -- public ----------------------------------------------------------------------------

    @property
    def rewrites(self) -> tuple[Rewrite, ...]:
        """The naive formulas computed by stable gates instead (see `compile(rewrite=...)`)."""
        return rewrites_in(self.backward.graph)

    @property
    def source(self) -> str:
        """The generated float-mode module (plain Python with `math`)."""
        return self.source_for(FLOAT)

    def source_for(self, mode: str) -> str:
        """The generated module for `mode`: "float" (Python floats, `math`) or "array" (NumPy)."""
        return self._ensure(mode).source

    def __call__(self, /, *args: Any, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """The value and the gradients `{name: gradient}` for the inputs in `wrt`."""
        return self._run(VALUE_AND_GRAD, self._float_value_and_grad, args, kwargs)

    def value(self, /, *args: Any, **kwargs: Any) -> Any:
        """The forward pass alone."""
        return self._run(VALUE, self._float_value, args, kwargs)

    def __repr__(self) -> str:
        return f"<symbackprop.CompiledFunction {self.text!r} inputs={self.inputs} wrt={self.wrt}>"

    def __reduce__(self) -> tuple[Any, ...]:
        from .pipeline import compile as compile_text

        return (_recompile, (compile_text, self.text, self.wrt, self._options))

    # -- calling ---------------------------------------------------------------------------

    def _run(
        self,
        which: str,
        float_function: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        values = self._bind(args, kwargs) if kwargs or len(args) != len(self.inputs) else args
        if all(type(value) is float for value in values):
            return self._guarded(FLOAT, float_function, values)
        pairs = tuple(zip(self.inputs, values, strict=True))
        if all(isinstance(value, (int, float)) for value in values):
            floats = tuple(_as_float(name, value) for name, value in pairs)
            return self._guarded(FLOAT, float_function, floats)
        operands = tuple(_as_array_operand(name, value) for name, value in pairs)
        return self._guarded(ARRAY, self._ensure_functions(ARRAY)[which], operands)

    def _guarded(self, mode: str, function: Callable[..., Any], values: tuple[Any, ...]) -> Any:
        """Call generated code; a failure inside it becomes an error that points at the text."""
        try:
            return function(*values)
        except (ArithmeticError, ValueError) as error:
            located = self._locate(mode, error)
            if located is None:
                raise
            raise located from error

    def _bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
        if len(args) > len(self.inputs):
            raise TypeError(
                f"expected at most {len(self.inputs)} inputs ({', '.join(self.inputs)}), "
                f"got {len(args)}"
            )
        values: list[Any] = list(args) + [_MISSING] * (len(self.inputs) - len(args))
        for name, value in kwargs.items():
            position = self._positions.get(name)
            if position is None:
                raise TypeError(
                    f"unexpected input {name!r}; the inputs are {', '.join(self.inputs) or 'none'}"
                )
            if values[position] is not _MISSING:
                raise TypeError(f"input {name!r} is given twice (by position and by name)")
            values[position] = value
        missing = [
            name for name, value in zip(self.inputs, values, strict=True) if value is _MISSING
        ]
        if missing:
            plural = "input" if len(missing) == 1 else "inputs"
            raise TypeError(f"missing {plural}: {', '.join(repr(name) for name in missing)}")
        return tuple(values)

    # -- generated code --------------------------------------------------------------------

    def _ensure(self, mode: str) -> Module:
        if mode not in self._modules:
            with self._lock:
                if mode not in self._modules:
                    module = emit(self.backward, mode)
                    self._functions[mode] = load(module.source, (VALUE_AND_GRAD, VALUE))
                    self._modules[mode] = module
        return self._modules[mode]

    def _ensure_functions(self, mode: str) -> dict[str, Callable[..., Any]]:
        self._ensure(mode)
        return self._functions[mode]

    def _locate(self, mode: str, error: BaseException) -> EvaluationError | None:
        """Turn an exception raised in generated code into an error at the failing gate's text."""
        module = self._modules[mode]
        filename = source_filename(module.source)
        line = None
        traceback = error.__traceback__
        while traceback is not None:
            if traceback.tb_frame.f_code.co_filename == filename:
                line = traceback.tb_lineno
            traceback = traceback.tb_next
        if line is None or line not in module.line_spans:
            return None
        span = module.line_spans[line]
        snippet = self.text[span.start : span.end]
        where = "the gradient of " if line in module.backward_lines else ""
        message = f"{_reason(error)} while computing {where}{snippet!r}"
        if mode == FLOAT:
            message += " with float inputs (NumPy arrays give inf/nan with a warning instead)"
        return EvaluationError(message, span, self.text)


def _reason(error: BaseException) -> str:
    if isinstance(error, ZeroDivisionError):
        return "division by zero"
    if isinstance(error, OverflowError):
        return "overflow"
    return " ".join(str(error).split()) or type(error).__name__


def _recompile(
    compile_text: Callable[..., CompiledFunction],
    text: str,
    wrt: tuple[str, ...],
    options: dict[str, Any],
) -> CompiledFunction:
    return compile_text(text, wrt=list(wrt), **options)


def _as_float(name: str, value: float) -> float:
    try:
        return float(value)
    except OverflowError:
        raise SymbackpropError(f"input {name!r} is an integer too large for a float") from None


def _as_array_operand(name: str, value: Any) -> Any:
    """An input for array-mode code: Python numbers stay scalars, the rest become float arrays.

    A Python float is kept as it is, so that NumPy treats it as a weak scalar and a float32 array
    input keeps its precision; integer and boolean arrays become float64.
    """
    if isinstance(value, (int, float)):
        return _as_float(name, value)
    try:
        array = np.asarray(value)
    except Exception as error:
        raise TypeError(f"input {name!r} must be a number or an array of numbers") from error
    if array.dtype.kind == "f":
        return array
    if array.dtype.kind in "biu":
        return array.astype(np.float64)
    raise TypeError(
        f"input {name!r} must be a real number or an array of real numbers, "
        f"not {array.dtype} values"
    )


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()

__all__ = ["CompiledFunction"]
