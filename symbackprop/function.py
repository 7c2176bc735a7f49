"""The compiled function users hold: calling conventions, float/array dispatch, located errors.

A `CompiledFunction` holds a formula's gate graph and generates code for it per numeric mode:
Python numbers go to float-mode code (the `math` module, fastest for scalars) when every gate is
elementwise; anything else goes to array-mode code, specialized to the inputs' shapes on first
use — the stages `specialize` → `backprop` → `emit` → `load`.  A failure inside generated code
(math domain error, division by zero, overflow, shapes that do not fit) becomes an error that
points at the sub-expression whose gate failed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .backprop import Backward, backprop
from .emit import ARRAY, FLOAT, VALUE, VALUE_AND_GRAD, Module, emit
from .errors import EvaluationError, ShapeError, SymbackpropError, excerpt
from .graph import Graph
from .load import load, source_filename
from .rewrite import Rewrite, rewrites_in
from .shapes import checked_shapes, is_elementwise, specialize


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
        self,
        text: str,
        wrt: tuple[str, ...],
        graph: Graph,
        options: dict[str, Any],
        shapes: Mapping[str, tuple[int, ...]] | None = None,
    ) -> None:
        self.text = text
        self.inputs: tuple[str, ...] = graph.inputs
        self.wrt = wrt
        self.graph = graph
        self._options = options
        self._elementwise = is_elementwise(graph)
        self._lock = threading.Lock()
        self._array: dict[tuple[Any, ...], tuple[Module, dict[str, Callable[..., Any]]]] = {}
        self._positions = {name: position for position, name in enumerate(self.inputs)}
        self._default_shapes: tuple[tuple[int, ...], ...] | None = None
        self._float_inputs = -1
        self._names_are_parameters = False
        if self._elementwise:
            self.backward: Backward | None = backprop(graph, wrt)
            self._float_module = emit(self.backward, FLOAT)
            module = self._float_module
            functions = load(module.value_and_grad_source, (VALUE_AND_GRAD,), module.source)
            self._float_value_and_grad = functions[VALUE_AND_GRAD]
            self._float_value: Callable[..., Any] | None = None
            self._float_inputs = len(self.inputs)
            self._names_are_parameters = self._float_module.parameters == self.inputs
        else:
            self.backward = None
        if shapes is not None:
            self._default_shapes = self._signature(shapes)
            self._specialized(self._default_shapes, upstream=False)

    # -- public ----------------------------------------------------------------------------

    @property
    def rewrites(self) -> tuple[Rewrite, ...]:
        """The naive formulas computed by stable gates instead (see `compile(rewrite=...)`)."""
        return rewrites_in(self.graph)

    @property
    def source(self) -> str:
        """The generated module: float mode (plain Python with `math`) when every gate is
        elementwise, else array mode (NumPy) for the shapes given to `compile` (scalars if none).
        """
        return self.source_for(FLOAT if self._elementwise else ARRAY)

    def source_for(self, mode: str, shapes: Mapping[str, tuple[int, ...]] | None = None) -> str:
        """The generated module for `mode`: "float" (Python floats, `math`) or "array" (NumPy).

        Array-mode code is specialized to the inputs' `shapes` (a dict name → shape); by default
        those given to `compile`, else every input a scalar.
        """
        if mode == FLOAT:
            if not self._elementwise:
                raise SymbackpropError(
                    "this formula has array operations (a matrix product or a reduction): it "
                    "runs in array mode only"
                )
            return self._float_module.source
        if mode != ARRAY:
            raise ValueError(f"mode must be 'float' or 'array', not {mode!r}")
        if shapes is not None:
            signature = self._signature(shapes)
        elif self._default_shapes is not None:
            signature = self._default_shapes
        else:
            signature = tuple(() for _ in self.inputs)
            try:
                return self._specialized(signature, upstream=False)[0].source
            except ShapeError as error:
                raise ShapeError(
                    f"{error.message}; array code is generated for the inputs' shapes, and "
                    "without them every input is taken as a number: give them (shapes= in "
                    "Python, --shapes W=3x4,x=4 on the command line)",
                    error.span,
                    error.source,
                ) from None
        return self._specialized(signature, upstream=False)[0].source

    def __call__(self, /, *args: Any, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """The value and the gradients `{name: gradient}` for the inputs in `wrt`.

        For an array output the gradients are those of the sum of its elements.
        """
        # The common scalar call — every input a float, all by position or all by (unmangled)
        # name — goes straight to the generated code; anything else takes the general path.
        if self._float_inputs >= 0:
            if not kwargs and len(args) == self._float_inputs:
                for value in args:
                    if type(value) is not float:
                        break
                else:
                    try:
                        return self._float_value_and_grad(*args)
                    except (ArithmeticError, ValueError) as error:
                        raise self._located(self._float_module, error) from error
            elif not args and self._names_are_parameters:
                for value in kwargs.values():
                    if type(value) is not float:
                        break
                else:
                    try:
                        return self._float_value_and_grad(**kwargs)
                    except TypeError:
                        pass  # a missing or unexpected name: the general path says which
                    except (ArithmeticError, ValueError) as error:
                        raise self._located(self._float_module, error) from error
        return self._run(VALUE_AND_GRAD, args, kwargs)

    def value(self, /, *args: Any, **kwargs: Any) -> Any:
        """The forward pass alone."""
        return self._run(VALUE, args, kwargs)

    def vjp(self, upstream: Any, /, *args: Any, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """The value and the vector-Jacobian products for an `upstream` gradient of the output.

        `upstream` has the output's shape; each returned gradient is Σ upstream · ∂output/∂input,
        the lecture's upstream gradient pushed back through the graph — without a Jacobian.
        """
        values = self._bind(args, kwargs) if kwargs or len(args) != len(self.inputs) else args
        operands = tuple(
            as_array_operand(name, value) for name, value in zip(self.inputs, values, strict=True)
        )
        seed = as_array_operand("upstream", upstream)
        module, functions = self._specialized(
            _shapes_of(operands), upstream=True, reuse_buffers=_float64_only((seed, *operands))
        )
        output_shape = module.output_shape
        if np.shape(seed) != output_shape:
            raise ShapeError(
                f"the upstream gradient has shape {np.shape(seed)}, but the output has shape "
                f"{output_shape}"
            )
        return self._guarded(module, functions[VALUE_AND_GRAD], (seed, *operands))

    def __repr__(self) -> str:
        return f"<symbackprop.CompiledFunction {self.text!r} inputs={self.inputs} wrt={self.wrt}>"

    def __reduce__(self) -> tuple[Any, ...]:
        from .pipeline import compile as compile_text

        return (_recompile, (compile_text, self.text, self.wrt, self._options))

    # -- calling ---------------------------------------------------------------------------

    def _run(self, which: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        values = self._bind(args, kwargs) if kwargs or len(args) != len(self.inputs) else args
        if self._elementwise:
            function = (
                self._float_value_and_grad if which == VALUE_AND_GRAD else self._float_forward()
            )
            for value in values:
                if type(value) is not float:
                    break
            else:
                return self._guarded(self._float_module, function, values)
            floats = []
            for name, value in zip(self.inputs, values, strict=True):
                if type(value) is float:
                    floats.append(value)
                elif isinstance(value, (int, float)):  # ints, bools, NumPy's float64
                    floats.append(_as_float(name, value))
                else:
                    break
            else:
                return self._guarded(self._float_module, function, tuple(floats))
        operands = tuple(
            as_array_operand(name, value) for name, value in zip(self.inputs, values, strict=True)
        )
        module, functions = self._specialized(
            _shapes_of(operands), upstream=False, reuse_buffers=_float64_only(operands)
        )
        return self._guarded(module, functions[which], operands)

    def _float_forward(self) -> Callable[..., Any]:
        """Float-mode `value()`, compiled on first use: most callers want the gradients."""
        if self._float_value is None:
            self._float_value = load(self._float_module.source, (VALUE,))[VALUE]
        return self._float_value

    def _guarded(
        self, module: Module, function: Callable[..., Any], values: tuple[Any, ...]
    ) -> Any:
        """Call generated code; a failure inside it becomes an error that points at the text."""
        try:
            return function(*values)
        except (ArithmeticError, ValueError, IndexError) as error:
            raise self._located(module, error) from error

    def _located(self, module: Module, error: BaseException) -> BaseException:
        """The error to raise for a failure in generated code: located at the gate, if we can."""
        located = self._locate(module, error)
        return error if located is None else located

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

    def _signature(self, shapes: Mapping[str, Any]) -> tuple[tuple[int, ...], ...]:
        shapes = checked_shapes(shapes)
        unknown = sorted(set(shapes) - set(self.inputs))
        if unknown:
            raise SymbackpropError(f"shapes names {unknown[0]!r}, which is not an input")
        missing = [name for name in self.inputs if name not in shapes]
        if missing:
            raise SymbackpropError(f"shapes gives no shape for {missing[0]!r}")
        return tuple(shapes[name] for name in self.inputs)

    def _specialized(
        self, signature: tuple[tuple[int, ...], ...], upstream: bool, reuse_buffers: bool = True
    ) -> tuple[Module, dict[str, Callable[..., Any]]]:
        """Array-mode code for inputs of these shapes (generated once per shapes, then cached).

        `reuse_buffers` (every input float64, the common case) lets the code write into its
        dead temporaries; with other dtypes a temporary's dtype is not known in advance.
        """
        key = (signature, upstream, reuse_buffers)
        found = self._array.get(key)
        if found is not None:
            return found
        with self._lock:
            found = self._array.get(key)
            if found is None:
                graph = specialize(self.graph, dict(zip(self.inputs, signature, strict=True)))
                backward = backprop(graph, self.wrt, upstream=upstream)
                module = emit(backward, ARRAY, reuse_buffers=reuse_buffers)
                found = (module, load(module.source, (VALUE_AND_GRAD, VALUE)))
                if len(self._array) >= _SPECIALIZATIONS:
                    self._array.pop(next(iter(self._array)))
                self._array[key] = found
        return found

    def _locate(self, module: Module, error: BaseException) -> EvaluationError | None:
        """Turn an exception raised in generated code into an error at the failing gate's text."""
        filename = source_filename(module.source)
        line = None
        traceback = error.__traceback__
        while traceback is not None:
            # The deepest line of a gate: a helper copied into the module has no span of its
            # own, and the line that called it does.
            located = traceback.tb_frame.f_code.co_filename == filename
            if located and traceback.tb_lineno in module.line_spans:
                line = traceback.tb_lineno
            traceback = traceback.tb_next
        if line is None:
            return None
        span = module.line_spans[line]
        snippet = excerpt(self.text[span.start : span.end])
        where = "the gradient of " if line in module.backward_lines else ""
        message = f"{_reason(error)} while computing {where}{snippet!r}"
        if module.mode == FLOAT:
            message += " with float inputs (NumPy arrays give inf/nan with a warning instead)"
        return EvaluationError(message, span, self.text)

    # -- optimisation ----------------------------------------------------------------------

    def for_scipy(
        self, wrt: list[str] | tuple[str, ...] | str | None = None, **fixed: Any
    ) -> tuple[Callable[[Any], tuple[float, Any]], Any]:
        """`(fun, layout)` for `scipy.optimize.minimize(fun, layout.flatten(start), jac=True)`.

        `fun(x)` takes all the parameters packed in one flat float64 vector and returns the
        value (a float; an array output's sum) and the gradient, a vector laid out as `x`.
        `wrt` lists the parameters (default: `self.wrt` minus the inputs given), in the order
        they take in `x`, each array raveled in C order.  A parameter's value given here is a
        template whose shape fixes the layout (one not given is a number); the other inputs
        given are fixed data.  `layout` (a `training.ParameterLayout`) has `flatten(params)`
        and `unflatten(x)`.  SciPy is not imported: `fun` only speaks NumPy.

        >>> import symbackprop
        >>> rosenbrock = symbackprop.compile("(1 - x)**2 + 100*(y - x**2)**2")
        >>> fun, layout = rosenbrock.for_scipy(["x", "y"])
        >>> fun(layout.flatten({"x": -1.2, "y": 1.0}))
        (24.199999999999996, array([-215.6,  -88. ]))
        """
        from .training import scipy_objective

        return scipy_objective(self, wrt, fixed)


_SPECIALIZATIONS = 64
"""How many shape signatures' array code a compiled function keeps."""


def _float64_only(operands: tuple[Any, ...]) -> bool:
    """Are all operands float64 arrays or Python floats, so every temporary is float64?"""
    return all(
        type(operand) is float or (isinstance(operand, np.ndarray) and operand.dtype == np.float64)
        for operand in operands
    )


def _shapes_of(operands: tuple[Any, ...]) -> tuple[tuple[int, ...], ...]:
    return tuple(np.shape(operand) for operand in operands)


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


def as_array_operand(name: str, value: Any) -> Any:
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
