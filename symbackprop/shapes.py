"""Stage 2¾ — specialize: a gate graph and its inputs' array shapes → the graph with every shape.

Array-mode code is generated for the shapes it is called with, as an expert would write it for
them: each gradient has exactly its value's shape, and a broadcast input's gradient is summed
back only where broadcasting happened.  Shapes that do not fit a gate are reported here, with
the span of the sub-expression and the shapes.  Imports `graph`, `gates` and `errors`.
"""

from __future__ import annotations

import numbers
import sys
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .errors import ShapeError, SymbackpropError, excerpt
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


def checked_shapes(shapes: Any) -> dict[str, tuple[int, ...]]:
    """`shapes=` as a caller gave it → {name: shape}, every size a whole number an array can have.

    The shapes only steer code generation, so nothing else would notice a negative size, a
    `2.5` cut to 2, a string's characters taken as sizes, or a size beyond NumPy's index range
    (which overflows inside NumPy later); each is refused here, saying which input it is.
    """
    if not isinstance(shapes, Mapping):
        raise TypeError(
            "shapes must map input names to shapes, as {'W': (3, 4), 'x': (4,)}, not "
            f"{type(shapes).__name__}"
        )
    checked: dict[str, tuple[int, ...]] = {}
    for name, shape in shapes.items():
        if not isinstance(name, str):
            raise TypeError(f"shapes must name inputs as strings, got {name!r}")
        checked[name] = _checked_shape(name, shape)
    return checked


def _checked_shape(name: str, shape: Any) -> tuple[int, ...]:
    example = f"shapes gives {name!r} the shape {shape!r}: a shape is a tuple of sizes, as (3, 4)"
    if isinstance(shape, (str, bytes)):
        raise SymbackpropError(example)
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)  # a vector's length, as NumPy reads `np.zeros(3)`
    try:
        sizes = tuple(shape)
    except TypeError:  # None, a float, a 0-d array
        raise SymbackpropError(f"{example}, or () for a number") from None
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, numbers.Integral):
            raise SymbackpropError(f"{example}, of whole numbers")
        if size < 0:
            raise SymbackpropError(f"shapes gives {name!r} a negative size: {shape!r}")
    total = 1
    for size in sizes:
        total *= int(size)
    if total > sys.maxsize:
        raise SymbackpropError(
            f"shapes gives {name!r} the shape {shape!r}, more elements than an array can hold"
        )
    return tuple(int(size) for size in sizes)
