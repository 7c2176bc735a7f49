"""The gate graph: the intermediate representation shared by lowering, backprop and emission.

A graph is a let-list in topological order (SSA): each `Node` is an input, a constant or a gate
applied to earlier nodes, referred to by index.  `GraphBuilder` appends nodes, sharing identical
ones (hash-consing on `(op, args, value)`), folding constants and applying each gate's identities
from the registry, so that no stage ever emits `x * 1` or `x + 0`.  `format_graph` prints one
equation per line.  Imports only `gates` and `syntax`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .gates import (
    FILL,
    GATES,
    NEGATE,
    Call,
    Conditional,
    GateNamespace,
    Infix,
    Prefix,
    Suffix,
    broadcast_shape,
)
from .syntax import Span

INPUT = "input"
CONSTANT = "const"
GRADIENT = "grad"
"""A backward-pass node standing for the accumulated gradient of the forward node `args[0]`."""
UPSTREAM = "upstream"
"""The upstream gradient of the output, when the caller supplies it (a vector-Jacobian product)."""


@dataclass(frozen=True, slots=True)
class Node:
    """One equation: `op` is INPUT, CONSTANT, GRADIENT or a gate name; `args` index earlier nodes.

    `label` is the input's name or the let-binding that names the value; `span` is the text it
    came from (for errors and explanations); `rewrite_of` is the user's text when the node is a
    stable gate standing for a naive formula (`sigmoid` for `1/(1+exp(-t))`).  `shape` is the
    value's array shape once the graph is specialized to its inputs' shapes (a constant with a
    shape is an array filled with `value`); `params` are a gate's static parameters (`axis`).
    """

    op: str
    args: tuple[int, ...] = ()
    value: float = 0.0
    label: str | None = None
    span: Span | None = None
    rewrite_of: str | None = None
    shape: tuple[int, ...] | None = None
    params: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Graph:
    """A program as gates: `nodes` in topological order, the `output` node, the named `inputs`."""

    nodes: tuple[Node, ...]
    output: int
    inputs: tuple[str, ...]
    source: str

    def input_nodes(self) -> dict[str, int]:
        """The index of each input's node, by name (every input has a node, used or not)."""
        return {node.label: index for index, node in enumerate(self.nodes) if node.op == INPUT}  # type: ignore[misc]


class GraphBuilder:
    """Appends nodes with sharing, constant folding and the registry's identities.

    Stages use it to build new graphs; a built graph is frozen into a `Graph` and never changed.
    """

    def __init__(self, nodes: tuple[Node, ...] = ()) -> None:
        self.nodes: list[Node] = list(nodes)
        self._index: dict[tuple[Any, ...], int] = {}
        for position, node in enumerate(self.nodes):
            self._index.setdefault(_key(node), position)
        self.shaped = bool(self.nodes) and all(node.shape is not None for node in self.nodes)
        self.default_span: Span | None = None  # the span new nodes get when none is given

    # -- leaves ------------------------------------------------------------------------------

    def input(self, name: str, span: Span | None = None) -> int:
        return self._add(Node(INPUT, label=name, span=span))

    def constant(self, value: float, shape: tuple[int, ...] = ()) -> int:
        """A constant; with a shape (in a specialized graph), an array filled with `value`."""
        return self._add(Node(CONSTANT, value=float(value), shape=shape if self.shaped else None))

    def gradient_of(self, node: int) -> int:
        return self._add(Node(GRADIENT, (node,), shape=self.nodes[node].shape))

    def upstream(self, shape: tuple[int, ...] | None) -> int:
        """The caller's upstream gradient of the output, a parameter of the generated code."""
        return self._add(Node(UPSTREAM, label=UPSTREAM, shape=shape))

    # -- gates -------------------------------------------------------------------------------

    def apply(
        self, gate_name: str, args: tuple[int, ...], span: Span | None = None, **params: Any
    ) -> int:
        """The node for `gate(args)`, after folding and identities; shared if it exists.

        In a specialized graph the node's shape comes from the gate's shape rule, and an
        identity applies only where it keeps the shape (`x * 1` is `x`, but a scalar times an
        array of ones is not).  A `ValueError` says when the inputs' shapes do not fit.
        """
        gate = GATES[gate_name]
        nodes = self.nodes
        shape = self._shape_of(gate_name, args, params) if self.shaped else None
        if shape is not None and gate.shape is None:
            args = self._scalar_constants(args, shape)
        values = [nodes[arg].value if nodes[arg].op == CONSTANT else None for arg in args]
        if gate.fills and values[0] is not None and shape is not None:
            return self.constant(values[0], shape)
        if None not in values and gate.shape is None:
            folded = _fold(gate.evaluate, values)
            if folded is not None:
                return self.constant(folded, shape or ())
        if len(args) == 2 and values != [None, None]:  # the identities need a constant
            left, right = values
            keeps = [nodes[arg].shape == shape for arg in args]
            if gate.identity is not None:
                if right == gate.identity and keeps[0]:
                    return args[0]
                if gate.commutative and left == gate.identity and keeps[1]:
                    return args[1]
                # A smaller value times an array of ones that has the result's shape (a scalar
                # weight's share of an array output's gradient) is that value spread over it.
                if right == gate.identity and keeps[1]:
                    return self.apply(FILL, (args[0],), span, shape=shape)
                if gate.commutative and left == gate.identity and keeps[0]:
                    return self.apply(FILL, (args[1],), span, shape=shape)
            if gate.absorbing is not None and right == gate.absorbing[0]:
                return self.constant(gate.absorbing[1], shape or ())
            if gate.negating is not None:
                if right == gate.negating and keeps[0]:
                    return self.apply(NEGATE, (args[0],), span)
                if gate.commutative and left == gate.negating and keeps[1]:
                    return self.apply(NEGATE, (args[1],), span)
        if gate.involution and nodes[args[0]].op == gate_name:
            return nodes[args[0]].args[0]
        return self._add(
            Node(
                gate_name,
                args,
                span=span or self.default_span,
                shape=shape,
                params=tuple(sorted(params.items())) if params else (),
            )
        )

    def name(self, node: int, label: str) -> None:
        """Give a node the user's let-binding name, unless it already has one or is a leaf."""
        current = self.nodes[node]
        if current.label is None and current.op not in (INPUT, CONSTANT):
            self.nodes[node] = _rebuilt(current, current.args, label)

    @property
    def namespace(self) -> GateNamespace:
        """What rules call gates through (`ns.exp(x)`), applying them in this builder.

        Made on demand rather than kept: a builder holding its own bound methods would be a
        reference cycle, which only the cycle collector frees, with all its nodes.
        """
        return GateNamespace(self._apply_refs, self._shape_of_ref)

    def ref(self, node: int) -> Ref:
        """A handle on a node that supports arithmetic, for writing rules as formulas."""
        return Ref(self, node)

    # -- internals ---------------------------------------------------------------------------

    def _add(self, node: Node) -> int:
        key = _key(node)
        existing = self._index.get(key)
        if existing is not None:
            return existing
        self.nodes.append(node)
        self._index[key] = len(self.nodes) - 1
        return len(self.nodes) - 1

    def _shape_of(
        self, gate_name: str, args: tuple[int, ...], params: dict[str, Any]
    ) -> tuple[int, ...] | None:
        shapes = [self.nodes[arg].shape for arg in args]
        if any(shape is None for shape in shapes):
            return None
        return gate_shape(gate_name, shapes, params)  # type: ignore[arg-type]

    def _scalar_constants(self, args: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
        """In an elementwise gate, an array filled with c whose shape the other inputs already
        give is just the number c: `exp1 * 0.5`, not `exp1 * np.full((2, 3), 0.5)`."""
        result = list(args)
        for position, arg in enumerate(args):
            node = self.nodes[arg]
            if node.op != CONSTANT or not node.shape:
                continue
            others = [self.nodes[other].shape for i, other in enumerate(args) if i != position]
            if others and broadcast_shape(*others) == shape:  # type: ignore[arg-type]
                result[position] = self.constant(node.value, ())
        return tuple(result)

    def _shape_of_ref(self, value: Any) -> tuple[int, ...]:
        if isinstance(value, Ref):
            shape = self.nodes[value.node].shape
            return shape if shape is not None else ()
        return ()

    def _apply_refs(self, gate_name: str, args: tuple[Any, ...], **params: Any) -> Ref:
        nodes = tuple([arg.node if isinstance(arg, Ref) else self.constant(arg) for arg in args])
        return Ref(self, self.apply(gate_name, nodes, **params))

    def _node_of(self, value: Any) -> int:
        if isinstance(value, Ref):
            return value.node
        return self.constant(value)


def pruned(
    nodes: list[Node] | tuple[Node, ...], output: int, inputs: tuple[str, ...], source: str
) -> Graph:
    """The graph of the inputs and the nodes `output` depends on, renumbered in the same order."""
    live = [node.op == INPUT for node in nodes]
    live[output] = True
    for index in range(len(nodes) - 1, -1, -1):
        if live[index]:
            for argument in nodes[index].args:
                live[argument] = True
    if all(live):
        return Graph(tuple(nodes), output, inputs, source)
    renumbered: dict[int, int] = {}
    kept: list[Node] = []
    for index, node in enumerate(nodes):
        if live[index]:
            renumbered[index] = len(kept)
            args = tuple([renumbered[a] for a in node.args])
            kept.append(node if args == node.args else _rebuilt(node, args, node.label))
    return Graph(tuple(kept), renumbered[output], inputs, source)


def gate_shape(
    gate_name: str, shapes: list[tuple[int, ...]], params: dict[str, Any]
) -> tuple[int, ...]:
    """The shape of a gate's output from its inputs' shapes, or a `ValueError` saying why not."""
    rule = GATES[gate_name].shape
    if rule is None:
        return broadcast_shape(*shapes)
    return tuple(rule(*shapes, **params))


def _rebuilt(node: Node, args: tuple[int, ...], label: str | None) -> Node:
    """`replace(node, args=args, label=label)` written out: it is twice as fast, and lowering
    and pruning call it for about every node."""
    return Node(
        node.op, args, node.value, label, node.span, node.rewrite_of, node.shape, node.params
    )


def _key(node: Node) -> tuple[Any, ...]:
    if node.op == CONSTANT:
        # 0.0 and -0.0 compare equal but are different constants; NaN is not equal to itself.
        return (CONSTANT, repr(node.value), node.shape)
    if node.op in (INPUT, UPSTREAM):
        return (node.op, node.label)
    return (node.op, node.args, node.params)


def _fold(evaluate: Any, values: list[float | None]) -> float | None:
    """Evaluate a gate on constants at compile time, unless that would raise or leave floats."""
    try:
        result = evaluate(*values)
    except (ArithmeticError, ValueError):
        return None
    if isinstance(result, complex) or not isinstance(result, (int, float)):
        return None
    return float(result)


class Ref:
    """A node handle with arithmetic: `(1 - out) * out * up` in a rule builds graph nodes."""

    __slots__ = ("builder", "node")

    def __init__(self, builder: GraphBuilder, node: int) -> None:
        self.builder = builder
        self.node = node

    def __add__(self, other: Any) -> Ref:
        return self.builder._apply_refs("add", (self, other))

    def __radd__(self, other: Any) -> Ref:
        return self.builder._apply_refs("add", (other, self))

    def __sub__(self, other: Any) -> Ref:
        return self.builder._apply_refs("sub", (self, other))

    def __rsub__(self, other: Any) -> Ref:
        return self.builder._apply_refs("sub", (other, self))

    def __mul__(self, other: Any) -> Ref:
        return self.builder._apply_refs("mul", (self, other))

    def __rmul__(self, other: Any) -> Ref:
        return self.builder._apply_refs("mul", (other, self))

    def __truediv__(self, other: Any) -> Ref:
        return self.builder._apply_refs("div", (self, other))

    def __rtruediv__(self, other: Any) -> Ref:
        return self.builder._apply_refs("div", (other, self))

    def __pow__(self, other: Any) -> Ref:
        return self.builder._apply_refs("pow", (self, other))

    def __rpow__(self, other: Any) -> Ref:
        return self.builder._apply_refs("pow", (other, self))

    def __neg__(self) -> Ref:
        return self.builder._apply_refs("neg", (self,))

    def __matmul__(self, other: Any) -> Ref:
        return self.builder._apply_refs("matmul", (self, other))

    def __rmatmul__(self, other: Any) -> Ref:
        return self.builder._apply_refs("matmul", (other, self))


def format_constant(value: float) -> str:
    """A constant as Python writes it (`1.0`, `0.5`, `inf`)."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)


def format_graph(graph: Graph) -> str:
    """One equation per line, as `mul1 = w0 * x0` with the nodes' own names.

    >>> from symbackprop.lower import lower
    >>> from symbackprop.parse import parse
    >>> print(format_graph(lower(parse("q = x + y; f = q * z; f"))))
    x = input
    y = input
    z = input
    q = x + y
    f = q * z
    output f
    """
    names = node_names(graph.nodes)
    lines = []
    for index, node in enumerate(graph.nodes):
        if node.op == CONSTANT:
            continue
        if node.op == INPUT:
            lines.append(f"{names[index]} = input")
            continue
        operands = [_operand(graph.nodes, names, arg) for arg in node.args]
        lines.append(f"{names[index]} = {_equation(node, operands)}")
    lines.append(f"output {_operand(graph.nodes, names, graph.output)}")
    return "\n".join(lines)


def node_names(nodes: tuple[Node, ...] | list[Node]) -> dict[int, str]:
    """Readable names for printing a graph: labels, else `<gate><k>` counted per gate."""
    names: dict[int, str] = {}
    taken = {node.label for node in nodes if node.label}
    counters: dict[str, int] = {}
    for index, node in enumerate(nodes):
        if node.op == CONSTANT:
            continue
        if node.label:
            names[index] = node.label
            continue
        if node.op == GRADIENT:
            names[index] = "d" + names[node.args[0]]
            continue
        while True:
            counters[node.op] = counters.get(node.op, 0) + 1
            candidate = f"{node.op}{counters[node.op]}"
            if candidate not in taken:
                break
        taken.add(candidate)
        names[index] = candidate
    return names


def _operand(nodes: tuple[Node, ...] | list[Node], names: dict[int, str], index: int) -> str:
    node = nodes[index]
    return format_constant(node.value) if node.op == CONSTANT else names[index]


def _equation(node: Node, operands: list[str]) -> str:
    notation = GATES[node.op].notation
    if isinstance(notation, Infix):
        return f"{operands[0]} {notation.symbol} {operands[1]}"
    if isinstance(notation, Prefix):
        return f"{notation.symbol}{operands[0]}"
    if isinstance(notation, Suffix):
        return f"{operands[0]}{notation.symbol}"
    if isinstance(notation, Conditional):
        return f"{operands[1]} if {operands[0]} else {operands[2]}"
    assert isinstance(notation, Call)
    arguments = operands + [f"{name}={value}" for name, value in node.params]
    return f"{notation.function}({', '.join(arguments)})"
