"""Optional peers (JAX, PyTorch, autograd, SymEngine) and access to symbackprop's internals.

A peer is measured only when it is installed; otherwise its row says "not installed".  Nothing
here installs anything.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Callable
from types import ModuleType
from typing import Any

PEERS = ("jax", "torch", "autograd", "symengine")
"""The optional peers, by the name they are imported as."""


def optional(name: str) -> ModuleType | None:
    """The module `name` if it can be imported, else None (a broken install counts as absent)."""
    try:
        return importlib.import_module(name)
    except Exception:
        return None


def version(distribution: str) -> str | None:
    """The installed version of a distribution, or None."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def peer_versions() -> dict[str, str | None]:
    """Versions of the peers and of the libraries every run uses (None: not installed)."""
    names = ("numpy", "sympy", "lark", "jax", "jaxlib", "torch", "autograd", "symengine")
    return {name: version(name) for name in names}


def raw_float_function(function: Any) -> tuple[Callable[..., Any], str]:
    """The generated float-mode `value_and_grad` of a CompiledFunction, without the dispatch.

    Returns the function and where it came from.  It is looked up where the compiled function
    keeps it (its internals change as symbackprop evolves, so several places are tried); as a
    last resort the float source is executed again, which defines the same code.
    """
    functions = getattr(function, "_functions", None)
    if isinstance(functions, dict):
        float_functions = functions.get("float")
        if isinstance(float_functions, dict) and "value_and_grad" in float_functions:
            return float_functions["value_and_grad"], 'f._functions["float"]["value_and_grad"]'
    direct = getattr(function, "_float_value_and_grad", None)
    if callable(direct):
        return direct, "f._float_value_and_grad"
    namespace: dict[str, Any] = {"__name__": "benchmarks.generated"}
    exec(compile(function.source, "<symbackprop float source>", "exec"), namespace)
    return namespace["value_and_grad"], "exec(f.source)"
