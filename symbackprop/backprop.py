"""Stage 3 — backprop: `graph.Graph` → `Backward`, the reverse-mode sweep as gate nodes.

Walking the forward gates in reverse, each gate's registry rule turns its upstream gradient into a
contribution for each input (local gradient × upstream gradient); where a value feeds several
gates the contributions add ("gradients add at branches").  Only values that depend on a
requested input get gradients, so no dead work is produced.  The result keeps the order of the
sweep, for code generation and for explanations.  Imports `graph` and `gates`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .gates import GATES
from .graph import CONSTANT, GRADIENT, INPUT, Graph, GraphBuilder, Node, Ref


@dataclass(frozen=True, slots=True)
class Compute:
    """Compute backward node `node`, a temporary of the rule of forward gate `origin`."""

    node: int
    origin: int


@dataclass(frozen=True, slots=True)
class Accumulate:
    """Add the value of node `contribution` into the gradient of forward node `target`.

    `first` marks the first contribution, which assigns (`=`) rather than adds (`+=`);
    `origin` is the forward gate whose rule produced it.
    """

    target: int
    contribution: int
    first: bool
    origin: int


@dataclass(frozen=True, slots=True)
class Step:
    """One edge of the backward pass: gate `gate` sends `contribution` to its input `position`.

    `fitted` marks a rule's result that was not in its input's shape: `_fit` summed it over the
    axes broadcasting stretched (or spread a smaller one), which the rule alone does not show, so
    `explain` writes it out.
    """

    gate: int
    position: int
    target: int
    contribution: int
    fitted: bool = False


Statement = Compute | Accumulate


@dataclass(frozen=True, slots=True)
class Backward:
    """The forward graph extended with its backward pass.

    `nodes` holds the forward nodes (same indices as `graph.nodes`) followed by the backward
    ones; GRADIENT nodes stand for accumulated gradient variables.  `statements` is the backward
    block in execution order.  `gradients` gives, for each requested input in order, the node
    holding its gradient (a GRADIENT node, or a constant when the output does not depend on it).
    `adjoints` pairs each differentiated forward node with the node holding its gradient (its
    GRADIENT node, or the constant that is its whole gradient).
    """

    graph: Graph
    nodes: tuple[Node, ...]
    statements: tuple[Statement, ...]
    gradients: tuple[tuple[str, int], ...]
    steps: tuple[Step, ...]
    adjoints: tuple[tuple[int, int], ...] = ()


def backprop(graph: Graph, wrt: tuple[str, ...], upstream: bool = False) -> Backward:
    """Reverse-mode differentiation of `graph`'s output with respect to the inputs `wrt`.

    The output's own gradient is 1 — an array of ones shaped like the output, so the gradients
    are those of the sum of its elements — or, with `upstream`, a parameter the caller supplies
    (a vector-Jacobian product, the lecture's upstream gradient).  In a specialized graph each
    contribution is summed back to the shape of the value it flows into where broadcasting
    stretched that value.

    >>> from symbackprop.lower import lower
    >>> from symbackprop.parse import parse
    >>> backward = backprop(lower(parse("(x + y) * z")), ("x",))
    >>> [name for name, _ in backward.gradients]
    ['x']
    """
    nodes = graph.nodes
    needed = _depends_on(graph, wrt)
    builder = GraphBuilder(nodes)
    statements: list[Statement] = []
    steps: list[Step] = []
    output_shape = nodes[graph.output].shape
    seed = builder.upstream(output_shape) if upstream else builder.constant(1.0, output_shape or ())
    gradient: dict[int, int] = {graph.output: seed}
    contributions: dict[int, list[int]] = {}
    zeros: dict[int, int] = {}  # a constant 0 sent to a value, in case nothing else is
    created = builder.nodes  # the list the rules' nodes are appended to
    namespace = builder.namespace

    for index in range(len(nodes) - 1, -1, -1):
        node = nodes[index]
        if not needed[index] or node.op in (INPUT, CONSTANT):
            continue
        if index != graph.output:
            terms = contributions.get(index)
            if not terms:
                # Every contribution was an exact 0 (a step gate's, as floor's), or the values
                # it feeds had none: nothing flows back, and no line of code says `+= 0.0`.
                zero = zeros.get(index)
                gradient[index] = builder.constant(0.0, node.shape or ()) if zero is None else zero
                continue
            # A value whose whole gradient is one constant (an add gate's 1) passes that
            # constant on, so identities can fold it: `dx = y`, not `dq = 1.0; dx = y * dq`.
            single_constant = len(terms) == 1 and created[terms[0]].op == CONSTANT
            gradient[index] = terms[0] if single_constant else builder.gradient_of(index)
        gate = GATES[node.op]
        operands = [Ref(builder, argument) for argument in node.args]
        output = Ref(builder, index)
        upstream_ref = Ref(builder, gradient[index])
        params = dict(node.params)
        builder.default_span = node.span  # backward nodes point at the gate they differentiate
        for position, (argument, rule) in enumerate(zip(node.args, gate.rules, strict=True)):
            if not needed[argument] or rule is None:
                continue
            first_new = len(created)
            contribution = rule(namespace, *operands, output, upstream_ref, **params)
            unfitted = builder._node_of(contribution)
            contribution_node = _fit(builder, unfitted, nodes[argument])
            for new in range(first_new, len(created)):
                if created[new].op != CONSTANT:
                    statements.append(Compute(new, index))
            steps.append(
                Step(index, position, argument, contribution_node, contribution_node != unfitted)
            )
            found = created[contribution_node]
            if found.op == CONSTANT and found.value == 0.0:
                zeros[argument] = contribution_node
                continue
            terms = contributions.setdefault(argument, [])
            statements.append(Accumulate(argument, contribution_node, not terms, index))
            terms.append(contribution_node)

    gradients = []
    input_nodes = graph.input_nodes()
    for name in wrt:
        input_node = input_nodes[name]
        if input_node == graph.output:
            gradients.append((name, gradient[graph.output]))
        elif input_node in contributions:
            gradients.append((name, builder.gradient_of(input_node)))
        else:
            gradients.append((name, builder.constant(0.0, nodes[input_node].shape or ())))
    all_nodes = tuple(builder.nodes)
    live = _live_statements(all_nodes, statements, [node for _, node in gradients])
    adjoints = tuple(sorted(gradient.items()))
    return Backward(graph, all_nodes, live, tuple(gradients), tuple(steps), adjoints)


def _fit(builder: GraphBuilder, contribution: int, target: Node) -> int:
    """A contribution in the shape of the value it flows into (specialized graphs only).

    Broadcasting may have stretched the value (a scalar weight times a vector): its gradient is
    then the sum over the stretched axes.  A filled constant is summed at compile time.
    """
    found = builder.nodes[contribution]
    if target.shape is None or found.shape == target.shape:
        return contribution
    if found.op == CONSTANT:
        stretch = math.prod(found.shape or ()) / max(math.prod(target.shape), 1)
        return builder.constant(found.value * stretch, target.shape)
    return builder.apply("sum_to_shape", (contribution,), shape=target.shape)


def _depends_on(graph: Graph, wrt: tuple[str, ...]) -> list[bool]:
    """For each node: does its value depend on one of the inputs `wrt`?"""
    wanted = set(wrt)
    depends = [False] * len(graph.nodes)
    for index, node in enumerate(graph.nodes):
        if node.op == INPUT:
            depends[index] = node.label in wanted
        else:
            depends[index] = any(depends[argument] for argument in node.args)
    return depends


def _live_statements(
    nodes: tuple[Node, ...], statements: list[Statement], results: list[int]
) -> tuple[Statement, ...]:
    """Drop backward statements whose values no requested gradient uses."""
    live_nodes = set(results)
    live_targets: set[int] = set()

    def mark(node: int) -> None:
        live_nodes.add(node)
        if nodes[node].op == GRADIENT:
            live_targets.add(nodes[node].args[0])

    for result in results:
        mark(result)
    kept: list[Statement] = []
    for statement in reversed(statements):
        if isinstance(statement, Accumulate):
            if statement.target not in live_targets:
                continue
            mark(statement.contribution)
        else:
            if statement.node not in live_nodes:
                continue
            for argument in nodes[statement.node].args:
                mark(argument)
        kept.append(statement)
    kept.reverse()
    return tuple(kept)
