"""`explain()`: the derivation, step by step, as the lecture writes it on its slides.

The forward pass lists every gate with its name, formula and value.  The backward pass walks the
gates in reverse and, for each edge, writes the chain rule the lecture's way —
`∂f/∂q = ∂f/∂f · ∂f/∂q = 1 · z = 1 · (-4) = -4`: the upstream gradient times the local gradient,
shown symbolically, then with numbers.  Each gate's pattern (add distributes, mul switches, max
routes) is named where it first matters, and where a value is used several times (by several
gates, or by both inputs of one, as in `x * x`) the sum of its gradients is spelled out.  Every
number comes from the same graphs the compiler generates code from: `interpret` runs them
statement by statement.
"""

from __future__ import annotations

import html
import json
import math
import re
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .backprop import backprop
from .function import as_array_operand
from .gates import (
    ATOM_PRECEDENCE,
    GATES,
    Call,
    Conditional,
    GateNamespace,
    Infix,
    Prefix,
    Suffix,
)
from .graph import CONSTANT, INPUT, Graph, node_names
from .interpret import array_forward_values, backward_values, forward_values
from .pipeline import compile as compile_text
from .shapes import specialize

TEXT_WIDTH = 80
_PLUS_PRECEDENCE = GATES["add"].notation.precedence  # the loosest arithmetic operator
GREEN = "\033[32m"
RED = "\033[31m"
RESET = "\033[0m"


@dataclass(frozen=True, slots=True)
class ForwardStep:
    """One line of the forward pass: an input's value, or a gate's formula and value."""

    name: str
    formula: str | None
    value: Any
    gate: str | None = None
    rewrite_of: str | None = None
    shape: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class EdgeStep:
    """The chain rule along one edge: gate `output` sends its input `input` a gradient.

    `upstream` is ∂f/∂output, `local` the local gradient ∂output/∂input (symbolic, with the
    values substituted, and as a number), and `gradient` their product, the contribution.  For
    arrays the local gradient would be a Jacobian, which is never formed: `vjp` is instead the
    formula that maps the upstream gradient to this input's (`∂f/∂q @ x.T`).
    """

    gate: str
    output: str
    input: str
    upstream: Any
    local: str
    local_with_values: str
    local_value: Any
    gradient: Any
    vjp: str | None = None


@dataclass(frozen=True, slots=True)
class GateGroup:
    """The backward steps of one gate: its forward line, its pattern (the first time), its edges."""

    output: str
    formula: str
    gate: str
    note: str | None
    edges: tuple[EdgeStep, ...]


@dataclass(frozen=True, slots=True)
class FanOut:
    """A value used several times: its gradient is the sum of what each use sends back.

    `sources` names the gate behind each part.  The uses may be several gates, or several
    inputs of one gate (`x * x`): `uses()` says which, in words.
    """

    name: str
    parts: tuple[float, ...]
    total: float
    sources: tuple[str, ...] = ()

    def uses(self) -> str:
        """`feeds 2 gates`, `feeds both inputs of f`, or `feeds 3 inputs of 2 gates`."""
        gates = list(dict.fromkeys(self.sources))
        if len(gates) == len(self.parts) or not gates:
            return f"feeds {len(self.parts)} gates"
        if len(gates) == 1:
            count = "both" if len(self.parts) == 2 else f"{len(self.parts)}"
            return f"feeds {count} inputs of {gates[0]}"
        return f"feeds {len(self.parts)} inputs of {len(gates)} gates"


@dataclass(frozen=True)
class Derivation:
    """The value and gradients of a formula at a point, with every step that produced them.

    `str()` is the text form; `to_markdown()`, `to_latex()`, `to_dict()` and `to_dot()` give the
    other forms; in Jupyter it renders as HTML.
    """

    text: str
    output: str
    point: dict[str, float]
    value: float
    forward: tuple[ForwardStep, ...]
    backward: tuple[GateGroup | FanOut, ...]
    gradients: dict[str, float]
    digits: int = 4
    graph: Graph | None = field(default=None, repr=False, compare=False)
    edge_values: dict[tuple[str, str], tuple[float, float | None]] = field(
        default_factory=dict, repr=False, compare=False
    )
    edge_gradients: dict[tuple[int, int], Any] = field(
        default_factory=dict, repr=False, compare=False
    )

    # -- text ------------------------------------------------------------------------------

    def __str__(self) -> str:
        return self.to_text()

    def to_text(self, color: bool = False) -> str:
        """The derivation for a terminal: forward values in green, gradients in red if `color`."""

        def forward(number: float) -> str:
            text = self.number(number)
            return f"{GREEN}{text}{RESET}" if color else text

        def gradient(number: float) -> str:
            text = self.number(number)
            return f"{RED}{text}{RESET}" if color else text

        lines = [*self._heading(), ""]
        lines.append("Forward pass")
        width = max(len(step.name) for step in self.forward)
        for step in self.forward:
            if step.rewrite_of is not None:
                how = GATES[step.gate].replaced_how
                lines.append(f"  # {_one_line(step.rewrite_of)}, computed {how} as {step.gate}")
            shape = f"  (shape {step.shape})" if step.shape else ""
            if step.formula is None:
                lines.append(f"  {step.name:<{width}} = {forward(step.value)}{shape}")
            else:
                value = forward(step.value)
                lines.append(f"  {step.name:<{width}} = {step.formula} = {value}{shape}")
        lines += ["", f"Backward pass, from ∂{self.output}/∂{self.output} = 1"]
        for item in self.backward:
            if isinstance(item, FanOut):
                terms = self._sum_text(item)
                lines.append(
                    f"  {item.name} {item.uses()}: gradients add: "
                    f"∂{self.output}/∂{item.name} = {terms} = {gradient(item.total)}"
                )
                continue
            lines.append(f"  {item.output} = {item.formula}")
            if item.note:
                # A long note (the pow gate's) wraps, so the text fits an 80-column terminal.
                lines += textwrap.wrap(
                    f"({item.note})",
                    TEXT_WIDTH,
                    initial_indent="    ",
                    subsequent_indent="     ",
                    break_long_words=False,
                    break_on_hyphens=False,
                )
            for edge in item.edges:
                for line in self._edge_text(edge, gradient, width=TEXT_WIDTH - 4).split("\n"):
                    lines.append("    " + line)
        lines += ["", "Gradient"]
        width = max([len(name) for name in self.gradients] + [1])
        for name, value in self.gradients.items():
            lines.append(f"  ∂{self.output}/∂{name:<{width}} = {gradient(value)}")
        return "\n".join(lines)

    def _heading(self) -> list[str]:
        statements = [
            statement.strip()
            for line in self.text.strip().splitlines()
            for statement in ([line] if "#" in line else line.split(";"))
            if statement.strip()
        ]
        if len(statements) == 1 and "#" not in statements[0]:
            program = [f"{self.output} = {statements[0]}"]
        else:
            program = ["program:", *(f"  {statement}" for statement in statements)]
        return [*program, f"at {self._point_text()}"]

    def _edge_text(
        self, edge: EdgeStep, gradient: Callable[[float], str], width: int | None = None
    ) -> str:
        """`∂f/∂a = ∂f/∂o · ∂o/∂a = up · local = up · local-with-values = gradient`.

        With a `width`, a line that would be longer continues under its first '='.
        """
        f, o, a = self.output, edge.output, edge.input
        if edge.vjp is not None:
            parts = [edge.vjp, gradient(edge.gradient)]
        else:
            upstream = _parenthesized(self.number(edge.upstream))
            parts = [f"∂{f}/∂{o} · ∂{o}/∂{a}", f"{upstream} · {edge.local}"]
            if edge.local_with_values != edge.local:
                parts.append(f"{upstream} · {edge.local_with_values}")
            parts.append(gradient(edge.gradient))
        left = f"∂{f}/∂{a}"
        if width is None:
            return " = ".join([left, *parts])
        lines = [f"{left} = {parts[0]}"]
        for part in parts[1:]:
            candidate = f"{lines[-1]} = {part}"
            if len(_strip_color(candidate)) <= width:
                lines[-1] = candidate
            else:
                lines.append(f"{' ' * len(left)} = {part}")
        return "\n".join(lines)

    def _sum_text(self, item: FanOut) -> str:
        """A fan-out's parts as a sum: `8 + (-6)`."""
        return " + ".join(_parenthesized(self.number(part)) for part in item.parts)

    def number(self, value: Any) -> str:
        """A value as the derivation prints it: `digits` significant digits, whole numbers bare;
        a small array in brackets, a large one by its shape."""
        return format_value(value, self.digits)

    def _point_text(self) -> str:
        if not self.point:
            return "no inputs (the formula is a constant)"
        return ", ".join(f"{name} = {self.number(value)}" for name, value in self.point.items())

    # -- other formats ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready): the point, both passes step by step, value and gradients."""
        backward: list[dict[str, Any]] = []
        for item in self.backward:
            if isinstance(item, FanOut):
                backward.append(
                    {
                        "fan_out": item.name,
                        "parts": list(item.parts),
                        "sources": list(item.sources),
                        "total": item.total,
                    }
                )
                continue
            backward.append(
                {
                    "gate": item.gate,
                    "output": item.output,
                    "formula": item.formula,
                    "note": item.note,
                    "edges": [
                        {
                            "input": edge.input,
                            "upstream": edge.upstream,
                            "local": edge.local,
                            "local_value": edge.local_value,
                            "gradient": edge.gradient,
                        }
                        for edge in item.edges
                    ],
                }
            )
        return _plain(
            {
                "text": self.text,
                "output": self.output,
                "point": dict(self.point),
                "value": self.value,
                "forward": [
                    {
                        "name": step.name,
                        "formula": step.formula,
                        "value": step.value,
                        "gate": step.gate,
                    }
                    for step in self.forward
                ],
                "backward": backward,
                "gradient": dict(self.gradients),
            }
        )

    def to_json(self) -> str:
        """`to_dict()` as JSON; inf and NaN, which JSON lacks, as strings."""
        return json.dumps(_json_safe(self.to_dict()), ensure_ascii=False, indent=2)

    def to_markdown(self) -> str:
        """Markdown: a table of the forward pass, then the chain rule edge by edge."""
        heading = self._heading()
        lines = [
            *(f"    {line}" for line in heading[:-1]),
            "",
            heading[-1],
            "",
            "| value | formula | forward |",
            "|---|---|---|",
        ]
        for step in self.forward:
            formula = f"`{step.formula}`" if step.formula else "input"
            lines.append(f"| `{step.name}` | {formula} | {self.number(step.value)} |")
        lines += ["", f"Backward pass, from ∂{self.output}/∂{self.output} = 1:", ""]
        for item in self.backward:
            if isinstance(item, FanOut):
                terms = self._sum_text(item)
                lines.append(
                    f"- `{item.name}` {item.uses()}, so its gradients add: "
                    f"{terms} = **{self.number(item.total)}**"
                )
                continue
            note = f" — {item.note}" if item.note else ""
            lines.append(f"- `{item.output} = {item.formula}`{note}")
            for edge in item.edges:
                lines.append(f"  - {self._edge_text(edge, lambda v: f'**{self.number(v)}**')}")
        lines += ["", "| input | gradient |", "|---|---|"]
        for name, value in self.gradients.items():
            lines.append(f"| `{name}` | {self.number(value)} |")
        return "\n".join(lines)

    def to_latex(self) -> str:
        """LaTeX (an `align*` environment): the chain rule with ∂-fractions, edge by edge.

        Names and numbers are written for math mode: a long name upright-italic as one word,
        a function as an operator, `**` as a superscript, `1e-30` as 1 × 10⁻³⁰.
        """

        def partial(top: str, bottom: str) -> str:
            return rf"\frac{{\partial {_latex_name(top)}}}{{\partial {_latex_name(bottom)}}}"

        def number(value: Any) -> str:
            return _latex_number(self.number(value))

        lines = [r"\begin{align*}"]
        for step in self.forward:
            formula = f"{_latex_text(step.formula)} = " if step.formula else ""
            lines.append(rf"{_latex_name(step.name)} &= {formula}{number(step.value)} \\")
        for item in self.backward:
            if isinstance(item, FanOut):
                terms = " + ".join(_parenthesized(number(part)) for part in item.parts)
                lines.append(
                    rf"{partial(self.output, item.name)} &= {terms} = {number(item.total)} \\"
                )
                continue
            for edge in item.edges:
                if edge.vjp is not None:  # arrays: the vector-Jacobian product, no local gradient
                    lines.append(
                        rf"{partial(self.output, edge.input)} &= {_latex_text(edge.vjp)}"
                        rf" = {number(edge.gradient)} \\"
                    )
                    continue
                lines.append(
                    rf"{partial(self.output, edge.input)} &= "
                    rf"{partial(self.output, edge.output)} \cdot {partial(edge.output, edge.input)}"
                    rf" = {_parenthesized(number(edge.upstream))} \cdot "
                    rf"{_latex_text(edge.local)} = {number(edge.gradient)} \\"
                )
        for name, value in self.gradients.items():
            lines.append(rf"{partial(self.output, name)} &= {number(value)} \\")
        lines[-1] = lines[-1].removesuffix(r" \\")
        lines.append(r"\end{align*}")
        return "\n".join(lines)

    def to_dot(self) -> str:
        """Graphviz DOT: the circuit left to right; each edge shows its value over its gradient."""
        if self.graph is None:
            raise ValueError("this derivation carries no graph")
        graph = self.graph
        names = node_names(graph.nodes)
        display = dict(names)
        display[graph.output] = self.output
        lines = [
            "digraph circuit {",
            "  rankdir=LR;",
            '  node [fontname="Helvetica"];',
            '  edge [fontname="Helvetica", fontsize=10];',
        ]
        for index, node in enumerate(graph.nodes):
            if node.op == CONSTANT and index == graph.output:
                label = format_constant(node.value)
                lines.append(f'  n{index} [label="{label}", shape=plaintext];')
                continue
            if node.op == CONSTANT:
                continue
            if node.op == INPUT:
                lines.append(
                    f'  n{index} [label="{_dot_escape(display[index])}", shape=plaintext];'
                )
            else:
                symbol = _gate_symbol(node.op)
                label = f"{display[index]}\\n{symbol}" if node.label else symbol
                lines.append(f'  n{index} [label="{_dot_escape(label)}", shape=circle];')
        for index, node in enumerate(graph.nodes):
            for position, argument in enumerate(node.args):
                source = graph.nodes[argument]
                if source.op == CONSTANT:
                    constant = f"c{index}_{argument}"
                    label = format_constant(source.value)
                    lines.append(f'  {constant} [label="{label}", shape=plaintext];')
                    lines.append(f"  {constant} -> n{index};")
                    continue
                label = self._edge_label(display, argument, (index, position))
                lines.append(f"  n{argument} -> n{index} [label={label}];")
        output = graph.output
        lines.append('  out [label="", shape=point];')
        lines.append(f"  n{output} -> out [label={self._edge_label(display, output)}];")
        lines.append("}")
        return "\n".join(lines)

    def _edge_label(
        self, display: dict[int, str], index: int, edge: tuple[int, int] | None = None
    ) -> str:
        """The value of node `index` over the gradient on this edge into gate input `edge`.

        A value used several times has one edge per use, each carrying what that use sends
        back (the lecture's "gradients add at branches"), not the sum on every edge.
        """
        value, gradient = self.edge_values.get((display[index], ""), (math.nan, None))
        if edge is not None:
            gradient = self.edge_gradients.get(edge)
        above = f'<font color="darkgreen">{html.escape(self.number(value))}</font>'
        if gradient is None:
            return f"<{above}>"
        below = f'<font color="red">{html.escape(self.number(gradient))}</font>'
        return f"<{above}<br/>{below}>"

    def _repr_html_(self) -> str:
        colored = html.escape(self.to_text(color=False))
        return f"<pre>{colored}</pre>"


def explain(text: str, /, rewrite: bool = True, **values: Any) -> Derivation:
    """The forward and backward pass of `text` at the point `values`, step by step.

    With `rewrite=False` naive formulas are explained gate by gate as written (the lecture's
    sigmoid circuit: ·(−1), exp, +1, 1/x) instead of through their stable gates.  (An input
    called `rewrite` therefore cannot be given by name here; pass it to `compile` instead.)

    >>> derivation = explain("q = x + y; f = q * z; f", x=-2, y=5, z=-4)
    >>> derivation.value, derivation.gradients
    (-12.0, {'x': -4.0, 'y': -4.0, 'z': 3.0})
    >>> print(derivation.backward[0].edges[0].local)
    z
    """
    function = compile_text(text, rewrite=rewrite)
    function._bind((), values)  # the same TypeError for a missing or unexpected input
    # The same checks as a call: a string, a complex or a ragged list is a TypeError, an integer
    # too large for a float a SymbackpropError, never NumPy's or float()'s own error.
    operands = {name: as_array_operand(name, values[name]) for name in function.inputs}
    arrays = function.backward is None or any(np.ndim(operands[name]) for name in operands)
    if not arrays:
        point: dict[str, Any] = {name: float(operands[name]) for name in function.inputs}
        backward = function.backward
        assert backward is not None
        graph = backward.graph
        forward = forward_values(graph, point)
        values_by_node = backward_values(backward, forward)
    else:
        point = {name: np.asarray(operands[name], dtype=np.float64) for name in operands}
        graph = specialize(function.graph, {name: np.shape(v) for name, v in point.items()})
        backward = backprop(graph, function.wrt)
        forward = array_forward_values(graph, point)
        values_by_node = backward_values(backward, forward, arrays=True)
    names = node_names(graph.nodes)
    output_name = _output_name(graph, names)
    display = dict(names)
    display[graph.output] = output_name

    def formula_of(index: int) -> str:
        node = graph.nodes[index]
        if node.op == CONSTANT:
            return _operand(graph, display, index)
        operands = [_operand(graph, display, argument) for argument in node.args]
        return _formula(node.op, operands, dict(node.params))

    # Constants are shown where they are used, except a constant output (`explain("2*pi")`,
    # folded to one number): it is the only step there is.
    forward_steps = tuple(
        ForwardStep(
            display[index],
            None if node.op == INPUT else formula_of(index),
            forward[index],
            None if node.op == INPUT else node.op,
            node.rewrite_of,
            node.shape or None,
        )
        for index, node in enumerate(graph.nodes)
        if node.op != CONSTANT or index == graph.output
    )

    gradient_of = dict(backward.adjoints)

    def upstream_of(index: int) -> float:
        return _contribution_value(backward, values_by_node, gradient_of[index])

    symbolic = GateNamespace(_formula_apply, _formula_shape)
    numeric = GateNamespace(lambda gate, args: float(GATES[gate].evaluate(*args)))
    steps_by_gate: dict[int, list[Any]] = {}
    for step in backward.steps:
        steps_by_gate.setdefault(step.gate, []).append(step)
    contributions: dict[int, list[float]] = {}
    sources: dict[int, list[str]] = {}  # the gate behind each contribution
    edge_gradients: dict[tuple[int, int], Any] = {}  # (gate, input position) -> contribution
    seen_gates: set[str] = set()
    items: list[GateGroup | FanOut] = []
    order = sorted(steps_by_gate, reverse=True)
    for gate_index in order:
        node = graph.nodes[gate_index]
        gate = GATES[node.op]
        parts = contributions.get(gate_index, [])
        if len(parts) > 1:
            items.append(
                FanOut(
                    display[gate_index],
                    tuple(parts),
                    upstream_of(gate_index),
                    tuple(sources[gate_index]),
                )
            )
        names_in = [_symbol(graph, display, argument) for argument in node.args]
        values_in = [_node_value(graph, forward, argument) for argument in node.args]
        # The formula's constants stay literals, which the rule's arithmetic may fold; the
        # values substituted for names are never folded, as the reader should see them used.
        numbers_in = (
            []
            if arrays
            else [
                _Formula.literal(value, format_number(value, 4))
                if graph.nodes[argument].op == CONSTANT
                else _Formula.atom(format_number(value, 4))
                for argument, value in zip(node.args, values_in, strict=True)
            ]
        )
        out_name = _Formula.atom(display[gate_index], node.shape)
        params = dict(node.params)
        edges = []
        for step in steps_by_gate[gate_index]:
            rule = gate.rules[step.position]
            gradient = _contribution_value(backward, values_by_node, step.contribution)
            contributions.setdefault(step.target, []).append(gradient)
            edge_gradients[(gate_index, step.position)] = gradient
            sources.setdefault(step.target, []).append(display[gate_index])
            if arrays:
                upstream_symbol = _Formula.atom(f"∂{output_name}/∂{display[gate_index]}")
                vjp = _as_formula(rule(symbolic, *names_in, out_name, upstream_symbol, **params))
                if step.fitted:  # not in the input's shape: summed over the stretched axes
                    shape = graph.nodes[step.target].shape
                    vjp = _formula_apply("sum_to_shape", (vjp,), shape=shape)
                edges.append(
                    EdgeStep(
                        node.op,
                        display[gate_index],
                        display[step.target],
                        upstream_of(gate_index),
                        "",
                        "",
                        math.nan,
                        gradient,
                        vjp=str(_as_formula(vjp)),
                    )
                )
                continue
            local = _as_formula(rule(symbolic, *names_in, out_name, 1))
            with_values = _as_formula(
                rule(
                    symbolic,
                    *numbers_in,
                    _Formula.atom(format_number(forward[gate_index], 4)),
                    1,
                )
            )
            local_value = float(rule(numeric, *values_in, forward[gate_index], 1.0))
            edges.append(
                EdgeStep(
                    node.op,
                    display[gate_index],
                    display[step.target],
                    upstream_of(gate_index),
                    local.as_factor(),
                    with_values.as_factor(),
                    local_value,
                    gradient,
                )
            )
        note = None
        if node.op not in seen_gates:
            seen_gates.add(node.op)
            note = gate.explanation
        items.append(
            GateGroup(display[gate_index], formula_of(gate_index), node.op, note, tuple(edges))
        )

    input_nodes = graph.input_nodes()
    gradients = {}
    for name, node_index in backward.gradients:
        gradients[name] = _contribution_value(backward, values_by_node, node_index)
        parts = contributions.get(input_nodes[name], [])
        if len(parts) > 1:
            items.append(
                FanOut(name, tuple(parts), gradients[name], tuple(sources[input_nodes[name]]))
            )

    edge_values: dict[tuple[str, str], tuple[float, float | None]] = {}
    for index, node in enumerate(graph.nodes):
        if node.op == CONSTANT and index != graph.output:
            continue
        if index == graph.output:
            gradient: float | None = 1.0
        elif node.op == INPUT:
            gradient = gradients.get(node.label or "")
        else:
            gradient = upstream_of(index) if index in gradient_of else None
        edge_values[(display[index], "")] = (forward[index], gradient)

    return Derivation(
        text=text,
        output=output_name,
        point=point,
        value=forward[graph.output],
        forward=forward_steps,
        backward=tuple(items),
        gradients=gradients,
        graph=graph,
        edge_values=edge_values,
        edge_gradients=edge_gradients,
    )


def format_value(value: Any, digits: int = 4) -> str:
    """A number as `format_number` writes it; an array of up to 8 elements as nested brackets,
    a larger one by its shape.

    >>> format_value(np.array([[1.0, 0.5], [-2.0, 3.25]]))
    '[[1, 0.5], [-2, 3.25]]'
    """
    if np.ndim(value) == 0:
        return format_number(float(value), digits)
    array = np.asarray(value)
    if array.size > 8:
        return f"<array of shape {array.shape}>"

    def nested(item: Any) -> str:
        if np.ndim(item) == 0:
            return format_number(float(item), digits)
        return "[" + ", ".join(nested(part) for part in item) + "]"

    return nested(array)


def _plain(value: Any) -> Any:
    """Arrays as lists, NumPy scalars as floats: data `json` can write."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def format_constant(value: float) -> str:
    """A constant of the formula as its author wrote it: the shortest text that reads back as
    the same float, whole numbers bare (`0.1`, not the 17 digits `0.10000000000000001`).

    >>> format_constant(0.1), format_constant(1e-20), format_constant(2.0), format_constant(1e300)
    ('0.1', '1e-20', '2', '1e+300')
    """
    if math.isfinite(value) and value == int(value) and abs(value) < 1e16:
        return str(int(value))
    return format_number(value) if not math.isfinite(value) else repr(value)


def format_number(value: float, digits: int = 4) -> str:
    """`digits` significant digits; whole numbers without a decimal point; inf and nan by name.

    >>> format_number(-12.0), format_number(0.7310585786), format_number(-0.19661193)
    ('-12', '0.7311', '-0.1966')
    """
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == int(value) and abs(value) < 10**digits:
        return str(int(value))
    return f"{value:.{digits}g}"


# -- formulas as text --------------------------------------------------------------------------


class _Formula:
    """A formula as text with its precedence: rules run on these to print a local gradient.

    Multiplying by 1 disappears, as in the generated code, so `rule(..., up=1)` prints the bare
    local gradient.  `value` is set on a literal — a constant of the formula or a number a rule
    writes, never a value substituted for a name — so a rule's arithmetic on literals alone can
    be folded: `x ** 3` has the local gradient `3 * x ** 2`, not
    `3 * x ** (0 if 3 == 0 else 3 - 1)`.
    """

    __slots__ = ("precedence", "shape", "text", "value")

    def __init__(
        self,
        text: str,
        precedence: int,
        shape: tuple[int, ...] | None = None,
        value: float | None = None,
    ) -> None:
        self.text = text
        self.precedence = precedence
        self.shape = shape
        self.value = value

    @staticmethod
    def atom(text: str, shape: tuple[int, ...] | None = None) -> _Formula:
        return _Formula(text, 13 if text.startswith("-") else ATOM_PRECEDENCE, shape)

    @staticmethod
    def literal(value: float, text: str | None = None) -> _Formula:
        """A number of the formula or of a rule, written as `text` (by default in full)."""
        written = format_constant(value) if text is None else text
        return _Formula(written, 13 if written.startswith("-") else ATOM_PRECEDENCE, None, value)

    def __str__(self) -> str:
        return self.text

    def as_factor(self) -> str:
        """The text as the right operand of a product: parenthesized unless it binds tighter."""
        bare = self.precedence > 12 and not self.text.startswith("-")
        return self.text if bare else f"({self.text})"

    def _binary(self, gate: str, left: Any, right: Any) -> _Formula:
        return _formula_apply(gate, (left, right))

    def __add__(self, other: Any) -> _Formula:
        return self._binary("add", self, other)

    def __radd__(self, other: Any) -> _Formula:
        return self._binary("add", other, self)

    def __sub__(self, other: Any) -> _Formula:
        return self._binary("sub", self, other)

    def __rsub__(self, other: Any) -> _Formula:
        return self._binary("sub", other, self)

    def __mul__(self, other: Any) -> _Formula:
        return self._binary("mul", self, other)

    def __rmul__(self, other: Any) -> _Formula:
        return self._binary("mul", other, self)

    def __truediv__(self, other: Any) -> _Formula:
        return self._binary("div", self, other)

    def __rtruediv__(self, other: Any) -> _Formula:
        return self._binary("div", other, self)

    def __pow__(self, other: Any) -> _Formula:
        return self._binary("pow", self, other)

    def __rpow__(self, other: Any) -> _Formula:
        return self._binary("pow", other, self)

    def __neg__(self) -> _Formula:
        return _formula_apply("neg", (self,))

    def __matmul__(self, other: Any) -> _Formula:
        return self._binary("matmul", self, other)

    def __rmatmul__(self, other: Any) -> _Formula:
        return self._binary("matmul", other, self)


def _as_formula(value: Any) -> _Formula:
    if isinstance(value, _Formula):
        return value
    return _Formula.literal(float(value))


def _formula_shape(value: Any) -> tuple[int, ...]:
    return value.shape if isinstance(value, _Formula) and value.shape is not None else ()


def _formula_apply(gate_name: str, args: tuple[Any, ...], **params: Any) -> _Formula:
    operands = [_as_formula(arg) for arg in args]
    if gate_name == "mul":
        if operands[1].text == "1":
            return operands[0]
        if operands[0].text == "1":
            return operands[1]
    written = _written(gate_name, operands, params)
    folded = _folded(gate_name, operands, params)
    if folded is not None and len(folded.text) <= len(written.text):
        return folded
    return written


def _folded(gate_name: str, operands: list[_Formula], params: dict[str, Any]) -> _Formula | None:
    """A gate on literals alone as one literal, or None (a name among the operands, a failure).

    Only what a rule writes around the formula's constants is folded (`3 - 1`, `3 == 0`), and
    the caller keeps the folded form only when it is shorter: `1 / 3` stays as it is.
    """
    values = [operand.value for operand in operands]
    if params or not values or any(value is None for value in values):
        return None
    try:
        result = float(GATES[gate_name].evaluate(*values))
    except (ArithmeticError, ValueError, TypeError):
        return None
    return _Formula.literal(result) if math.isfinite(result) else None


def _written(gate_name: str, operands: list[_Formula], params: dict[str, Any]) -> _Formula:
    """A gate applied to formulas, in its notation, with the parentheses precedence needs.

    A negative operand is parenthesized after an arithmetic operator, and before `*`, `/` and
    `**`, even where Python would not need it: `1 - (-0.4621) * (-0.4621)`, not
    `1 - -0.4621 * -0.4621`.
    """
    notation = GATES[gate_name].notation
    if isinstance(notation, Infix):
        left, right = operands
        precedence, right_associative = notation.precedence, notation.right_associative
        arithmetic = precedence >= _PLUS_PRECEDENCE
        left_needs = (
            left.precedence < precedence
            or (left.precedence == precedence and right_associative)
            or (precedence > _PLUS_PRECEDENCE and left.text.startswith("-"))
        )
        right_needs = (
            right.precedence < precedence
            or (right.precedence == precedence and not right_associative)
            or (arithmetic and right.text.startswith("-"))
        )
        left_text = f"({left})" if left_needs else left.text
        right_text = f"({right})" if right_needs else right.text
        return _Formula(f"{left_text} {_pretty(notation.symbol)} {right_text}", precedence)
    if isinstance(notation, Prefix):
        operand = operands[0]
        needs = operand.precedence < notation.precedence or operand.text.startswith("-")
        text = f"({operand})" if needs else operand.text
        return _Formula(f"{notation.symbol}{text}", notation.precedence)
    if isinstance(notation, Conditional):
        condition, if_true, if_false = operands
        return _Formula(f"{if_true} if {condition} else {if_false}", notation.precedence)
    if isinstance(notation, Suffix):
        operand = operands[0]
        text = f"({operand})" if operand.precedence < ATOM_PRECEDENCE else operand.text
        return _Formula(f"{text}{notation.symbol}", ATOM_PRECEDENCE)
    assert isinstance(notation, Call)
    arguments = [o.text for o in operands]
    arguments += [f"{key}={value!r}" for key, value in params.items() if value is not None]
    return _Formula(f"{notation.function}({', '.join(arguments)})", ATOM_PRECEDENCE)


def _pretty(symbol: str) -> str:
    return {">=": "≥", "*": "*"}.get(symbol, symbol)


def _formula(gate: str, operands: list[str], params: dict[str, Any] | None = None) -> str:
    atoms = tuple(_Formula.atom(operand) for operand in operands)
    return str(_formula_apply(gate, atoms, **(params or {})))


def _operand(graph: Graph, display: Mapping[int, str], index: int) -> str:
    node = graph.nodes[index]
    return format_constant(node.value) if node.op == CONSTANT else display[index]


def _symbol(graph: Graph, display: Mapping[int, str], index: int) -> _Formula:
    """An operand of a gate as a formula: its name, or a constant as a literal."""
    node = graph.nodes[index]
    if node.op == CONSTANT:
        return _Formula.literal(node.value)
    return _Formula.atom(display[index], node.shape)


def _node_value(graph: Graph, forward: list[float], index: int) -> float:
    node = graph.nodes[index]
    return node.value if node.op == CONSTANT else forward[index]


def _contribution_value(backward: Any, values: dict[int, float], index: int) -> Any:
    """A gradient's value; a constant filling an array (a sum's gradient of ones) as that array,
    so that it is shown in its true shape, not as one number."""
    node = backward.nodes[index]
    if node.op != CONSTANT:
        return values[index]
    return np.full(node.shape, node.value) if node.shape else node.value


def _output_name(graph: Graph, names: dict[int, str]) -> str:
    """The output's name: its binding, or `f` as in the lecture when `f` is free."""
    output = graph.nodes[graph.output]
    if output.label is not None:
        return output.label
    if "f" not in names.values():
        return "f"
    return names[graph.output]


def _gate_symbol(op: str) -> str:
    notation = GATES[op].notation
    if isinstance(notation, (Infix, Prefix)):
        return notation.symbol
    return op


def _parenthesized(text: str) -> str:
    """Negative numbers and sums in a product read better in parentheses: 1 · (-4)."""
    if text.startswith("-") or " + " in text or " - " in text or " if " in text:
        return f"({text})"
    return text


def _strip_color(text: str) -> str:
    for code in (GREEN, RED, RESET):
        text = text.replace(code, "")
    return text


def _one_line(text: str) -> str:
    return "; ".join(line.strip() for line in text.strip().splitlines() if line.strip())


def _latex_name(name: str) -> str:
    """A name in math mode: one letter as it is, a longer name as one italic word (`mul1`,
    `s\\_apple`), not a product of letters."""
    escaped = name.replace("_", r"\_")
    return escaped if len(name) == 1 else rf"\mathit{{{escaped}}}"


def _latex_number(text: str) -> str:
    """A number as `number()` writes it, for math mode: `2e-30` as 2 \\times 10^{-30}, `1e+300`
    as 10^{300}, inf as ∞ — and an array's elements the same way."""
    if text.startswith("<array of shape"):
        return rf"\text{{{text[1:-1]}}}"

    def one(match: re.Match[str]) -> str:
        number = match[0]
        if number in ("inf", "nan"):
            return r"\infty" if number == "inf" else r"\mathrm{NaN}"
        mantissa, _, exponent = number.partition("e")
        if not exponent:
            return number
        power = rf"10^{{{int(exponent)}}}"
        return power if mantissa == "1" else rf"{mantissa} \times {power}"

    return re.sub(r"inf|nan|\d+(?:\.\d+)?(?:e[+-]?\d+)?", one, text)


_LATEX_TOKEN = re.compile(r"\s+|∂\w+/∂\w+|\d+(?:\.\d+)?(?:e[+-]?\d+)?|[A-Za-z_]\w*|\*\*|==|\.T\b|.")
_LATEX_SYMBOLS = {"*": r"\cdot", "≥": r"\geq", "==": "=", "@": r"\mathbin{@}", ".T": r"^\top"}


def _latex_text(text: str) -> str:
    """A formula as `explain` writes it, in LaTeX math: names as `_latex_name`, functions as
    operators, `a ** b` as a^{b}, `if`/`else` as words, ∂f/∂q as a fraction."""
    tokens = [token for token in _LATEX_TOKEN.findall(text) if not token.isspace()]
    return _latex_tokens(tokens)


def _latex_tokens(tokens: list[str]) -> str:
    out: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if token == "**":  # the exponent: one token, or a parenthesized group without its parens
            if index < len(tokens) and tokens[index] == "(":
                depth, end = 0, index
                for end in range(index, len(tokens)):
                    depth += {"(": 1, ")": -1}.get(tokens[end], 0)
                    if depth == 0:
                        break
                exponent = _latex_tokens(tokens[index + 1 : end])
                index = end + 1
            else:
                exponent = _latex_tokens(tokens[index : index + 1])
                index += 1
            out.append(f"^{{{exponent}}}")
        elif token.startswith("∂"):
            top, bottom = token[1:].split("/∂")
            out.append(rf"\frac{{\partial {_latex_name(top)}}}{{\partial {_latex_name(bottom)}}}")
        elif token in ("if", "else"):
            out.append(rf"\text{{ {token} }}")
        elif token[0].isdigit():
            out.append(_latex_number(token))
        elif token[0].isalpha() or token[0] == "_":
            if index < len(tokens) and tokens[index] == "(":
                escaped = token.replace("_", r"\_")
                out.append(rf"\operatorname{{{escaped}}}")
            else:
                out.append(_latex_name(token))
        else:
            out.append(_LATEX_SYMBOLS.get(token, token))
    text = " ".join(out).replace("( ", "(").replace(" )", ")").replace(" ,", ",").replace(" ^", "^")
    return re.sub(r"(\\operatorname\{[^}]*\}) \(", r"\1(", text)


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\\\\n", "\\n")


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return value
