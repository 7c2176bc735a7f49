"""Stage 2 — lower: `syntax.Program` → `graph.Graph`, the gates in topological order.

Each binding's expression becomes gates, identical subexpressions become one node, constant
subexpressions are folded and trivial identities dropped (all by `GraphBuilder`).  Variadic calls
(`max(a, b, c)`) fold left into binary gates.  Nodes the output does not depend on are dropped,
but every input keeps its node.  Walks the tree with an explicit stack: nesting depth is
unbounded.  Imports `graph`, `gates` and `syntax`.
"""

from __future__ import annotations

from .gates import CONSTANTS, GATES
from .graph import Graph, GraphBuilder, pruned
from .syntax import Apply, Constant, Expr, Name, Number, Program, fold


def lower(program: Program) -> Graph:
    """Build the gate graph of a parsed program.

    >>> from symbackprop.parse import parse
    >>> graph = lower(parse("(x + y) * (x + y)"))
    >>> [node.op for node in graph.nodes]
    ['input', 'input', 'add', 'mul']
    """
    builder = GraphBuilder()
    scope: dict[str, int] = {}
    for name in program.inputs:
        scope[name] = builder.input(name)
    for binding in program.bindings:
        node = _lower_expression(binding.value, scope, builder)
        builder.name(node, binding.name)
        scope[binding.name] = node
    output = _lower_expression(program.result, scope, builder)
    return pruned(builder.nodes, output, program.inputs, program.source)


def _lower_expression(expression: Expr, scope: dict[str, int], builder: GraphBuilder) -> int:
    """The expression's node, built bottom-up."""

    def leaf(item: Number | Constant | Name) -> int:
        if isinstance(item, Number):
            return builder.constant(item.value)
        if isinstance(item, Constant):
            return builder.constant(CONSTANTS[item.name])
        return scope[item.id]

    return fold(expression, leaf, lambda call, arguments: _apply(call, tuple(arguments), builder))


def _apply(call: Apply, arguments: tuple[int, ...], builder: GraphBuilder) -> int:
    gate = GATES[call.gate]
    if not gate.variadic:
        return builder.apply(call.gate, arguments, call.span, **dict(call.params))
    folded = arguments[0]
    for argument in arguments[1:]:
        folded = builder.apply(call.gate, (folded, argument), call.span)
    return folded
