"""symbackprop: compile a formula written as text into a fast value-and-gradient function.

    >>> import symbackprop as sb
    >>> f = sb.compile("(x + y) * z")
    >>> f(x=-2, y=5, z=-4)
    (-12.0, {'x': -4.0, 'y': -4.0, 'z': 3.0})

The pipeline, one module per stage: `parse` (text → syntax tree) → `lower` (→ gate graph) →
`rewrite` (naive formulas → stable gates) → `backprop` (→ backward pass) → `emit` (→ Python
source) → `load` (→ function); `pipeline.compile` runs the first three, the compiled function
the rest.  Every gate is described once, in `gates`.
"""

from . import optim
from .check import CheckReport, check
from .errors import (
    ArityError,
    EvaluationError,
    NameResolutionError,
    ParseError,
    ShapeError,
    SymbackpropError,
    UnknownFunctionError,
)
from .explain import Derivation, explain
from .function import CompiledFunction
from .graph import format_graph
from .lower import lower
from .numgrad import numerical_gradient
from .parse import parse
from .pipeline import compile
from .symbolic import symbolic_gradient, to_sympy
from .training import DivergenceError, MinimizeResult, minimize
from .unparse import to_text

__version__ = "0.1.0"

__all__ = [
    "ArityError",
    "CheckReport",
    "CompiledFunction",
    "Derivation",
    "DivergenceError",
    "EvaluationError",
    "MinimizeResult",
    "NameResolutionError",
    "ParseError",
    "ShapeError",
    "SymbackpropError",
    "UnknownFunctionError",
    "__version__",
    "check",
    "compile",
    "explain",
    "format_graph",
    "lower",
    "minimize",
    "numerical_gradient",
    "optim",
    "parse",
    "symbolic_gradient",
    "to_sympy",
    "to_text",
]
