"""Deterministic random programs for the compile-time workload, and their references.

A `Program` is a list of nodes in topological order (inputs, constants, gates).  It renders as a
let-chain (`a1 = sin(x0)`, one gate per binding) or as one expression, and has a reference:
`reference()` evaluates it and backpropagates by interpreting the node list, independently of
symbackprop.  `straight_line()` writes it out as staged Python, the code a person would write by
hand for it; `to_sympy()` builds the SymPy expression node by node (never by parsing text).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

INPUT = "input"
CONSTANT = "const"
UNARY = ("sin", "cos", "tanh", "sigmoid")
BINARY = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
PRECEDENCE = {"add": 1, "sub": 1, "mul": 2, "div": 2}
ATOM = 3

LET_CHAIN_INPUTS = (0.9, -0.6, 0.4, 1.3)
"""The point where let-chains are evaluated (and kept well-conditioned while generated)."""
EXPRESSION_INPUTS = (0.9, -0.6, 0.4, 1.3, -1.1, 0.7, 0.2, -0.3)


@dataclass(frozen=True)
class Node:
    """An input (`label` its name), a constant (`value`, `label` its text) or a gate of `args`."""

    op: str
    args: tuple[int, ...] = ()
    value: float = 0.0
    label: str = ""


@dataclass(frozen=True)
class Program:
    """A program as nodes, its text, its output node and the point where it is checked."""

    nodes: tuple[Node, ...]
    output: int
    text: str
    point: tuple[float, ...]
    kind: str
    """"let-chain" or "expression"."""

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(node.label for node in self.nodes if node.op == INPUT)

    @property
    def gates(self) -> int:
        """The number of gate nodes (one per binding in a let-chain)."""
        return sum(1 for node in self.nodes if node.op not in (INPUT, CONSTANT))

    def arguments(self, order: tuple[str, ...]) -> tuple[float, ...]:
        """The point's values in the given order of input names (a compiled function's)."""
        by_name = dict(zip(self.inputs, self.point, strict=True))
        return tuple(by_name[name] for name in order)

    def reference(self) -> tuple[float, dict[str, float]]:
        """Value and gradients at `point`, by interpreting the nodes forward then backward."""
        return reference(self.nodes, self.output, self.point)


def sigmoid(t: float) -> float:
    """σ(t), stable for large |t|."""
    if t >= 0.0:
        return 1.0 / (1.0 + math.exp(-t))
    exp_t = math.exp(t)
    return exp_t / (1.0 + exp_t)


FUNCTIONS: dict[str, Callable[[float], float]] = {
    "sin": math.sin,
    "cos": math.cos,
    "tanh": math.tanh,
    "sigmoid": sigmoid,
}


def _apply(op: str, values: list[float], args: tuple[int, ...]) -> float:
    if op in FUNCTIONS:
        return FUNCTIONS[op](values[args[0]])
    a, b = values[args[0]], values[args[1]]
    if op == "add":
        return a + b
    if op == "sub":
        return a - b
    if op == "mul":
        return a * b
    return a / b


def reference(
    nodes: tuple[Node, ...], output: int, point: tuple[float, ...]
) -> tuple[float, dict[str, float]]:
    """The reference value and gradients: a forward loop, then adjoints in reverse order."""
    values: list[float] = []
    inputs = iter(point)
    for node in nodes:
        if node.op == INPUT:
            values.append(next(inputs))
        elif node.op == CONSTANT:
            values.append(node.value)
        else:
            values.append(_apply(node.op, values, node.args))
    adjoints = [0.0] * len(nodes)
    adjoints[output] = 1.0
    for index in range(output, -1, -1):
        node = nodes[index]
        upstream = adjoints[index]
        if node.op in (INPUT, CONSTANT) or upstream == 0.0:
            continue
        out = values[index]
        if node.op in FUNCTIONS:
            x = values[node.args[0]]
            local = {
                "sin": math.cos(x),
                "cos": -math.sin(x),
                "tanh": 1.0 - out * out,
                "sigmoid": out * (1.0 - out),
            }[node.op]
            adjoints[node.args[0]] += local * upstream
            continue
        a, b = node.args
        if node.op == "add":
            adjoints[a] += upstream
            adjoints[b] += upstream
        elif node.op == "sub":
            adjoints[a] += upstream
            adjoints[b] -= upstream
        elif node.op == "mul":
            adjoints[a] += values[b] * upstream
            adjoints[b] += values[a] * upstream
        else:
            adjoints[a] += upstream / values[b]
            adjoints[b] -= out / values[b] * upstream
    gradients = {
        node.label: adjoints[index] for index, node in enumerate(nodes) if node.op == INPUT
    }
    return values[output], gradients


# -- generators ----------------------------------------------------------------------------------


def let_chain(gates: int, seed: int = 6) -> Program:
    """A let-chain of `gates` bindings, each one gate of the one before and an earlier value.

    `a_k = op(a_{k-1}, v)` with `v` an earlier binding or input chosen at random (so earlier
    values are shared by later bindings), or `a_k = f(a_{k-1})` for a unary f among sin, cos,
    tanh and sigmoid.  Every binding feeds the next, so none is pruned and the output depends on
    all of them; the first bindings bring in every input.  Values are computed while generating:
    a division only takes a denominator of magnitude ≥ 0.5 and a gate whose value would exceed
    4 in magnitude becomes tanh, so the program stays finite at its point.  Deterministic for a
    given `gates` and `seed`.
    """
    rng = random.Random(seed * 1_000_003 + gates)
    point = LET_CHAIN_INPUTS
    nodes = [Node(INPUT, label=f"x{i}") for i in range(len(point))]
    values = list(point)
    previous = 0
    for k in range(gates):
        if k < len(point) - 1:
            op, args = rng.choice(("add", "sub", "mul")), (previous, k + 1)
        elif rng.random() < 0.4:
            op, args = rng.choice(UNARY), (previous,)
        else:
            op = rng.choice(tuple(BINARY))
            other = _earlier(rng, len(nodes), previous)
            if op == "div":
                for _ in range(8):
                    if abs(values[other]) >= 0.5:
                        break
                    other = _earlier(rng, len(nodes), previous)
                else:
                    op = "mul"
            args = (previous, other)
        value = _apply(op, values, args)
        if abs(value) > 4.0:
            op, args = "tanh", (previous,)
            value = math.tanh(values[previous])
        nodes.append(Node(op, args))
        values.append(value)
        previous = len(nodes) - 1
    text = render_let_chain(nodes, previous)
    return Program(tuple(nodes), previous, text, point, "let-chain")


def _earlier(rng: random.Random, count: int, excluded: int) -> int:
    choice = rng.randrange(count - 1)
    return choice if choice < excluded else choice + 1


def render_let_chain(nodes: list[Node], output: int) -> str:
    """One binding per gate, `a<index>` named, then the output's name."""
    names = [node.label if node.op == INPUT else f"a{index}" for index, node in enumerate(nodes)]
    lines = []
    for index, node in enumerate(nodes):
        if node.op == INPUT:
            continue
        if node.op in FUNCTIONS:
            expression = f"{node.op}({names[node.args[0]]})"
        else:
            a, b = node.args
            expression = f"{names[a]} {BINARY[node.op]} {names[b]}"
        lines.append(f"{names[index]} = {expression}")
    lines.append(names[output])
    return "\n".join(lines) + "\n"


def expression(chars: int, seed: int = 6) -> Program:
    """One expression (no bindings) of about `chars` characters: a sum of random small terms.

    Each term is a random tree of depth ≤ 4 of sin, cos, tanh, sigmoid, +, − and * over eight
    inputs and a few constants; identical sub-terms recur, so lowering shares them.
    """
    rng = random.Random(seed * 7_919 + chars)
    point = EXPRESSION_INPUTS
    nodes = [Node(INPUT, label=f"x{i}") for i in range(len(point))]
    texts: list[str] = []
    total = 0
    output = -1
    while total < chars or output < 0:
        term, text = _term(rng, nodes, 4)
        if output < 0:
            output = term
        else:
            nodes.append(Node("add", (output, term)))
            output = len(nodes) - 1
        texts.append(text if _precedence(nodes[term]) > 1 else f"({text})")
        total += len(texts[-1]) + 3
    return Program(tuple(nodes), output, " + ".join(texts) + "\n", point, "expression")


def _precedence(node: Node) -> int:
    return PRECEDENCE.get(node.op, ATOM)


def _term(rng: random.Random, nodes: list[Node], depth: int) -> tuple[int, str]:
    """A random subtree appended to `nodes`: its index and its text, parenthesized by need."""
    if depth == 0 or rng.random() < 0.25:
        if rng.random() < 0.8:
            index = rng.randrange(len(EXPRESSION_INPUTS))
            return index, nodes[index].label
        text = f"{rng.uniform(0.1, 2.0):.3f}"
        nodes.append(Node(CONSTANT, value=float(text), label=text))
        return len(nodes) - 1, text
    if rng.random() < 0.35:
        op = rng.choice(UNARY)
        argument, text = _term(rng, nodes, depth - 1)
        nodes.append(Node(op, (argument,)))
        return len(nodes) - 1, f"{op}({text})"
    op = rng.choice(("add", "sub", "mul"))
    left, left_text = _term(rng, nodes, depth - 1)
    right, right_text = _term(rng, nodes, depth - 1)
    precedence = PRECEDENCE[op]
    if _precedence(nodes[left]) < precedence:
        left_text = f"({left_text})"
    if _precedence(nodes[right]) <= precedence:
        right_text = f"({right_text})"
    nodes.append(Node(op, (left, right)))
    return len(nodes) - 1, f"{left_text} {BINARY[op]} {right_text}"


# -- the same program written out ----------------------------------------------------------------


def straight_line(program: Program) -> Callable[..., tuple[float, dict[str, float]]]:
    """The program as staged Python, one line per gate forward and per local gradient backward.

    This is what a person writes by hand for a program (the lecture's staging), used as the
    baseline for the call time of compiled programs.  Gradients add with `+=` at branches.
    """
    nodes = program.nodes
    names = [
        node.label if node.op == INPUT else node.label if node.op == CONSTANT else f"v{index}"
        for index, node in enumerate(nodes)
    ]
    inputs = [names[index] for index, node in enumerate(nodes) if node.op == INPUT]
    lines = [f"def value_and_grad({', '.join(inputs)}):"]
    for index, node in enumerate(nodes):
        if node.op in FUNCTIONS:
            lines.append(f"    {names[index]} = {node.op}({names[node.args[0]]})")
        elif node.op in BINARY:
            a, b = node.args
            lines.append(f"    {names[index]} = {names[a]} {BINARY[node.op]} {names[b]}")
    assigned: set[int] = {program.output}
    lines.append(f"    g{program.output} = 1.0")

    def send(target: int, contribution: str) -> None:
        if nodes[target].op == CONSTANT:
            return
        if target in assigned:
            lines.append(f"    g{target} += {contribution}")
        else:
            lines.append(f"    g{target} = {contribution}")
            assigned.add(target)

    for index in range(program.output, -1, -1):
        node = nodes[index]
        if node.op in (INPUT, CONSTANT) or index not in assigned:
            continue
        up, out = f"g{index}", names[index]
        if node.op in FUNCTIONS:
            x = names[node.args[0]]
            local = {
                "sin": f"cos({x})",
                "cos": f"-sin({x})",
                "tanh": f"(1.0 - {out} * {out})",
                "sigmoid": f"{out} * (1.0 - {out})",
            }[node.op]
            send(node.args[0], f"{local} * {up}")
            continue
        a, b = node.args
        if node.op == "add":
            send(a, up)
            send(b, up)
        elif node.op == "sub":
            send(a, up)
            send(b, f"-{up}")
        elif node.op == "mul":
            send(a, f"{names[b]} * {up}")
            send(b, f"{names[a]} * {up}")
        else:
            send(a, f"{up} / {names[b]}")
            send(b, f"-{out} / {names[b]} * {up}")
    gradients = ", ".join(
        f'"{names[index]}": {f"g{index}" if index in assigned else "0.0"}'
        for index, node in enumerate(nodes)
        if node.op == INPUT
    )
    lines.append(f"    return {names[program.output]}, {{{gradients}}}")
    namespace: dict[str, Any] = {
        "sin": math.sin,
        "cos": math.cos,
        "tanh": math.tanh,
        "sigmoid": sigmoid,
    }
    exec(compile("\n".join(lines) + "\n", "<straight-line>", "exec"), namespace)
    return namespace["value_and_grad"]  # type: ignore[no-any-return]


def to_sympy(program: Program) -> tuple[list[Any], Any]:
    """The input symbols and the output as a SymPy expression, built node by node.

    Each binding's expression is built from the expressions of the values it uses, which is
    substituting the let-chain into one expression; sigmoid is written 1/(1 + exp(−t)).
    """
    import sympy

    symbols: list[Any] = []
    expressions: list[Any] = []
    for node in program.nodes:
        if node.op == INPUT:
            symbol = sympy.Symbol(node.label)
            symbols.append(symbol)
            expressions.append(symbol)
        elif node.op == CONSTANT:
            expressions.append(sympy.Float(node.value))
        elif node.op == "sigmoid":
            expressions.append(1 / (1 + sympy.exp(-expressions[node.args[0]])))
        elif node.op in FUNCTIONS:
            expressions.append(getattr(sympy, node.op)(expressions[node.args[0]]))
        else:
            a, b = (expressions[arg] for arg in node.args)
            if node.op == "add":
                expressions.append(a + b)
            elif node.op == "sub":
                expressions.append(a - b)
            elif node.op == "mul":
                expressions.append(a * b)
            else:
                expressions.append(a / b)
    return symbols, expressions[program.output]
