"""Stage 2½ — rewrite: replace naive formulas by the gates that compute them better.

Users write `1/(1+exp(-t))`, `log(1+exp(t))`, `log(exp(a)+exp(b))`, `exp(t)-1` and
`log(1+t)`; evaluated as written they overflow or lose precision (the naive sigmoid's gradient
is NaN at t = −1000 in JAX, autograd and SymPy alike).  They also write `sum(W * W)`, which
allocates a temporary as large as W that `vdot(W, W)` never makes.  Each such gate lists in the
registry the naive formulas it replaces; this pass finds them in the gate graph and substitutes
the gate, marking the node with the user's text so the substitution shows in `f.rewrites`, in
the generated source and in explanations — the lecture's advice to group the sigmoid's gates
into one.  Imports `gates` and `graph`."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .gates import GATES, Pattern, Replacement
from .graph import CONSTANT, Graph, GraphBuilder, Node, pruned
from .syntax import Span


@dataclass(frozen=True, slots=True)
class Rewrite:
    """One substitution: the user's `text` at `span` is computed by the stable `gate`."""

    gate: str
    text: str
    span: Span | None


def rewrite(graph: Graph) -> Graph:
    """The graph with every naive formula the registry knows replaced by its stable gate.

    >>> from symbackprop.graph import format_graph
    >>> from symbackprop.lower import lower
    >>> from symbackprop.parse import parse
    >>> print(format_graph(rewrite(lower(parse("1/(1+exp(-(w*x)))")))))
    w = input
    x = input
    mul1 = w * x
    sigmoid1 = sigmoid(mul1)
    output sigmoid1
    """
    matches: dict[int, tuple[str, tuple[int, ...]]] = {}
    for index, node in enumerate(graph.nodes):
        match = _first_match(graph.nodes, index, _PATTERNS_BY_GATE.get(node.op, ()))
        if match is not None:
            matches[index] = match
    if not matches:
        # The graph was built by a `GraphBuilder` like the one below: copied, it would come
        # back node for node.
        return graph
    builder = GraphBuilder()
    renumbered: dict[int, int] = {}
    for index, node in enumerate(graph.nodes):
        match = matches.get(index)
        if match is None:
            new = _copy(builder, node, renumbered)
        else:
            gate, operands = match
            new = builder.apply(gate, tuple(renumbered[operand] for operand in operands), node.span)
            text = graph.source[node.span.start : node.span.end] if node.span else gate
            builder.nodes[new] = replace(builder.nodes[new], rewrite_of=text)
        if node.label is not None:
            builder.name(new, node.label)
        renumbered[index] = new
    return pruned(builder.nodes, renumbered[graph.output], graph.inputs, graph.source)


def rewrites_in(graph: Graph) -> tuple[Rewrite, ...]:
    """The substitutions a rewritten graph carries, in node order."""
    return tuple(
        Rewrite(node.op, node.rewrite_of, node.span)
        for node in graph.nodes
        if node.rewrite_of is not None
    )


def _copy(builder: GraphBuilder, node: Node, renumbered: dict[int, int]) -> int:
    if node.op == CONSTANT:
        return builder.constant(node.value)
    if not node.args:
        return builder.input(node.label or "", node.span)
    arguments = tuple(renumbered[a] for a in node.args)
    return builder.apply(node.op, arguments, node.span, **dict(node.params))


def _first_match(
    nodes: tuple[Node, ...], index: int, replacements: tuple[tuple[str, Replacement], ...]
) -> tuple[str, tuple[int, ...]] | None:
    for gate, replacement in replacements:
        bindings: dict[str, int] = {}
        if _matches(nodes, replacement.pattern, index, bindings):
            return gate, tuple(bindings[variable] for variable in replacement.inputs)
    return None


def _matches(
    nodes: tuple[Node, ...], pattern: object, index: int, bindings: dict[str, int]
) -> bool:
    node = nodes[index]
    if isinstance(pattern, str):
        if pattern in bindings:
            return bindings[pattern] == index
        bindings[pattern] = index
        return True
    if isinstance(pattern, float):
        return node.op == CONSTANT and node.value == pattern
    assert isinstance(pattern, tuple)
    gate, *operands = pattern
    if node.op != gate or len(node.args) != len(operands) or node.params:
        return False
    orders = [node.args]
    if GATES[gate].commutative:
        orders.append(tuple(reversed(node.args)))
    for order in orders:
        attempt = dict(bindings)
        if all(
            _matches(nodes, sub, arg, attempt) for sub, arg in zip(operands, order, strict=True)
        ):
            bindings.clear()
            bindings.update(attempt)
            return True
    return False


def _variables(pattern: object) -> list[str]:
    """The pattern's variables in order of first appearance: the gate's inputs, in order."""
    if isinstance(pattern, str):
        return [pattern]
    if not isinstance(pattern, tuple):
        return []
    found: list[str] = []
    for operand in pattern[1:]:
        found += [variable for variable in _variables(operand) if variable not in found]
    return found


def _size(pattern: object) -> int:
    if not isinstance(pattern, tuple):
        return 0
    return 1 + sum(_size(operand) for operand in pattern[1:])


def _by_gate(
    replacements: list[tuple[str, Replacement]],
) -> dict[str, tuple[tuple[str, Replacement], ...]]:
    """The replacements by the gate at their pattern's root (a node is only tried against its
    own gate's), larger patterns first, so that log(1 + exp(t)) becomes softplus(t), not
    log1p(exp(t))."""
    grouped: dict[str, list[tuple[str, Replacement]]] = {}
    for gate, replacement in sorted(replacements, key=lambda item: -_size(item[1].pattern)):
        grouped.setdefault(replacement.pattern[0], []).append((gate, replacement))
    return {root: tuple(found) for root, found in grouped.items()}


def _replacement(entry: Pattern | Replacement) -> Replacement:
    """A registry entry with its inputs spelled out: by default the pattern's variables."""
    if isinstance(entry, Replacement):
        return entry
    return Replacement(entry, tuple(_variables(entry)))


_PATTERNS_BY_GATE = _by_gate(
    [(gate.name, _replacement(entry)) for gate in GATES.values() for entry in gate.replaces]
)
