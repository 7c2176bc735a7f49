"""Evaluate a gate graph node by node with each gate's float reference implementation.

Slower than generated code, but it yields every intermediate value, which `check` needs to stay
inside the formula's domain and `explain` needs to show the forward pass.  Imports `graph` and
`gates`.
"""

from __future__ import annotations

from collections.abc import Mapping

from .gates import GATES
from .graph import CONSTANT, INPUT, Graph


def forward_values(graph: Graph, inputs: Mapping[str, float]) -> list[float]:
    """The float value of every node of `graph` at `inputs`, in node order.

    Raises what the gate's float implementation raises (`ValueError` for a math domain error,
    `ZeroDivisionError`, `OverflowError`).

    >>> from symbackprop.lower import lower
    >>> from symbackprop.parse import parse
    >>> forward_values(lower(parse("(x + y) * z")), {"x": -2, "y": 5, "z": -4})
    [-2.0, 5.0, -4.0, 3.0, -12.0]
    """
    values: list[float] = []
    for node in graph.nodes:
        if node.op == INPUT:
            values.append(float(inputs[node.label]))  # type: ignore[index]
        elif node.op == CONSTANT:
            values.append(node.value)
        else:
            arguments = [values[argument] for argument in node.args]
            values.append(float(GATES[node.op].evaluate(*arguments)))
    return values
