"""Stage 2¾ — specialize: a gate graph and its inputs' array shapes → the graph with every shape.

Array-mode code is generated for the shapes it is called with, as an expert would write it for
them: each gradient has exactly its value's shape, and a broadcast input's gradient is summed
back only where broadcasting happened.  Shapes that do not fit a gate are reported here, with
the span of the sub-expression and the shapes.  Imports `graph`, `gates` and `errors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from .errors import ShapeError, excerpt
from .gates import GATES
from .graph import CONSTANT, INPUT, Graph, Node, gate_shape


def specialize(graph: Graph, shapes: Mapping[str, tuple[int, ...]]) -> Graph:
    """The graph with each node's shape, given each input's.

    >>> from symbackprop.lower import lower
    >>> from symbackprop.parse import parse
    >>> graph = specialize(lower(parse("sum(W @ x)")), {"W": (3, 4), "x": (4,)})
    >>> [node.shape for node in graph.nodes]
    [(3, 4), (4,), (3,), ()]
    """
    nodes: list[Node] = []
    for node in graph.nodes:
        if node.op == INPUT:
            shape = tuple(int(size) for size in shapes[node.label])  # type: ignore[index]
        elif node.op == CONSTANT:
            shape = ()
        else:
            arguments = [nodes[argument].shape for argument in node.args]
            try:
                shape = gate_shape(node.op, arguments, dict(node.params))  # type: ignore[arg-type]
            except ValueError as error:
                snippet = (
                    excerpt(graph.source[node.span.start : node.span.end]) if node.span else node.op
                )
                raise ShapeError(f"{error} in {snippet!r}", node.span, graph.source) from None
        nodes.append(replace(node, shape=shape))
    return Graph(tuple(nodes), graph.output, graph.inputs, graph.source)


def is_elementwise(graph: Graph) -> bool:
    """True when every gate is elementwise: then Python floats can run through `math`."""
    return all(node.op in (INPUT, CONSTANT) or GATES[node.op].shape is None for node in graph.nodes)


def index_inputs(graph: Graph) -> tuple[str, ...]:
    """Inputs used only as integer indices (`pick`'s labels): they get no gradient."""
    as_index: set[int] = set()
    as_value: set[int] = set()
    for node in graph.nodes:
        if node.op in (INPUT, CONSTANT):
            continue
        positions = GATES[node.op].index_arguments
        for position, argument in enumerate(node.args):
            (as_index if position in positions else as_value).add(argument)
    return tuple(
        node.label  # type: ignore[misc]
        for index, node in enumerate(graph.nodes)
        if node.op == INPUT and index in as_index and index not in as_value
    )
