"""Evaluate a gate graph node by node with each gate's float reference implementation.

Slower than generated code, but it yields every intermediate value, which `check` needs to stay
inside the formula's domain and `explain` needs to show both passes.  Imports `graph`, `gates`
and `backprop` (for the backward block's statements).
"""

from __future__ import annotations

import builtins
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from . import runtime
from .backprop import Backward, Compute
from .errors import EvaluationError, excerpt
from .gates import GATES, Call, Conditional, Infix, Prefix, Suffix
from .graph import CONSTANT, GRADIENT, INPUT, Graph, Node


def forward_values(graph: Graph, inputs: Mapping[str, float]) -> list[float]:
    """The float value of every node of `graph` at `inputs`, in node order.

    A gate whose float implementation fails (a math domain error, a division by zero, an
    overflow) raises an `EvaluationError` at its sub-expression.

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
            values.append(_float_gate(node, arguments, graph.source, gradient=False))
    return values


def _float_gate(node: Node, arguments: list[Any], source: str, gradient: bool) -> float:
    """One gate on floats; a failure becomes an `EvaluationError` at the gate's text."""
    try:
        return float(GATES[node.op].evaluate(*arguments))
    except (ArithmeticError, ValueError) as error:
        reason = "division by zero" if isinstance(error, ZeroDivisionError) else str(error)
        where = "the gradient of " if gradient else ""
        snippet = excerpt(source[node.span.start : node.span.end]) if node.span else node.op
        message = f"{reason} while computing {where}{snippet!r} at this point"
        raise EvaluationError(message, node.span, source) from error


def array_forward_values(graph: Graph, inputs: Mapping[str, Any]) -> list[Any]:
    """The NumPy value of every node of a graph, computed with each gate's array-mode form.

    >>> import numpy as np
    >>> from symbackprop.lower import lower
    >>> from symbackprop.parse import parse
    >>> array_forward_values(lower(parse("sum(x * x)")), {"x": np.array([1.0, 2.0])})[-1]
    np.float64(5.0)
    """
    values: list[Any] = []
    for node in graph.nodes:
        if node.op == INPUT:
            values.append(inputs[node.label])  # type: ignore[index]
        elif node.op == CONSTANT:
            values.append(np.full(node.shape, node.value) if node.shape else node.value)
        else:
            arguments = [values[argument] for argument in node.args]
            values.append(_array_gate(node, arguments, graph.source, gradient=False))
    return values


def _array_gate(node: Node, arguments: list[Any], source: str, gradient: bool) -> Any:
    """One gate on NumPy values; a failure becomes an `EvaluationError` at the gate's text.

    NumPy gives inf/nan for a domain error, but raises for what has no value at all: the
    maximum of no elements, a `pick` label out of range.  The compiled function reports those
    at the gate, and so does the derivation.
    """
    try:
        return evaluate_array(node.op, arguments, dict(node.params))
    except (ArithmeticError, ValueError, IndexError) as error:
        where = "the gradient of " if gradient else ""
        snippet = excerpt(source[node.span.start : node.span.end]) if node.span else node.op
        message = f"{' '.join(str(error).split())} while computing {where}{snippet!r}"
        raise EvaluationError(message, node.span, source) from error


def evaluate_array(gate_name: str, arguments: list[Any], params: dict[str, Any]) -> Any:
    """One gate on NumPy values, through the same form the generated array code uses."""
    form = GATES[gate_name].array_form
    if isinstance(form, Infix):
        return _INFIX[form.symbol](*arguments)
    if isinstance(form, Prefix):
        return -arguments[0]
    if isinstance(form, Suffix):
        return np.transpose(arguments[0])
    if isinstance(form, Conditional):
        return np.where(*arguments)
    assert isinstance(form, Call)
    owner = {"numpy": np, "symbackprop.runtime": runtime, "math": math}.get(form.module, builtins)
    return getattr(owner, form.function)(*arguments, **params)


_INFIX = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": operator.pow,
    "@": operator.matmul,
    ">=": operator.ge,
    ">": operator.gt,
    "==": operator.eq,
}


def backward_values(backward: Backward, forward: list[Any], arrays: bool = False) -> dict[int, Any]:
    """The float value of every backward node, by running the backward block statement by statement.

    `forward` holds the forward nodes' values (from `forward_values`).  A GRADIENT node's value
    is the sum of the contributions accumulated into it, as in the generated code.  The nodes the
    block leaves out, because no requested gradient needs them, get values too (see
    `_unneeded_values`): an explanation shows every edge.

    >>> from symbackprop.backprop import backprop
    >>> from symbackprop.lower import lower
    >>> from symbackprop.parse import parse
    >>> graph = lower(parse("(x + y) * z"))
    >>> backward = backprop(graph, graph.inputs)
    >>> values = backward_values(backward, forward_values(graph, {"x": -2, "y": 5, "z": -4}))
    >>> [values[node] for _, node in backward.gradients]
    [-4.0, -4.0, 3.0]
    """
    nodes = backward.nodes
    values: dict[int, Any] = dict(enumerate(forward))
    gradient_node = {node.args[0]: index for index, node in enumerate(nodes) if node.op == GRADIENT}
    accumulated: dict[int, float] = {}

    def value(index: int) -> Any:
        node = nodes[index]
        if node.op == CONSTANT:
            return np.full(node.shape, node.value) if arrays and node.shape else node.value
        return values[index]

    for statement in backward.statements:
        if isinstance(statement, Compute):
            node = nodes[statement.node]
            arguments = [value(argument) for argument in node.args]
            if arrays:
                result = _array_gate(node, arguments, backward.graph.source, gradient=True)
            else:
                result = _float_gate(node, arguments, backward.graph.source, gradient=True)
            values[statement.node] = result
        else:
            contribution = value(statement.contribution)
            total = (
                contribution if statement.first else accumulated[statement.target] + contribution
            )
            accumulated[statement.target] = total
            if statement.target in gradient_node:
                values[gradient_node[statement.target]] = total
    for _, node in backward.gradients:
        values.setdefault(node, value(node))
    _unneeded_values(backward, len(forward), values, value, arrays)
    return values


def _unneeded_values(
    backward: Backward,
    first: int,
    values: dict[int, Any],
    value: Callable[[int], Any],
    arrays: bool,
) -> None:
    """Compute the backward nodes from `first` on that the backward block left out.

    A step gate's rule (floor, sign) ignores its upstream gradient, so nothing needs that
    gradient, nor the contributions summed into it, and the block drops them.  The derivation
    still shows them, as the upstream times the local gradient 0.  Node order is an order of
    evaluation: a GRADIENT node comes after every contribution to it.
    """
    contributions: dict[int, list[int]] = {}
    for step in backward.steps:
        contributions.setdefault(step.target, []).append(step.contribution)
    for index in range(first, len(backward.nodes)):
        node = backward.nodes[index]
        if index in values or node.op == CONSTANT:
            continue
        if node.op == GRADIENT:
            terms = [value(term) for term in contributions[node.args[0]]]
            values[index] = sum(terms[1:], terms[0])
            continue
        arguments = [value(argument) for argument in node.args]
        if arrays:
            values[index] = _array_gate(node, arguments, backward.graph.source, gradient=True)
        else:
            values[index] = _float_gate(node, arguments, backward.graph.source, gradient=True)
