"""`explain`: the derivation as the lecture writes it, in every format, agreeing with compile().

The golden texts below were read by eye against the lecture's slides: (x+y)*z at x=-2, y=5,
z=-4; the sigmoid neuron at w0=2, x0=-1, w1=-3, x1=-2, w2=-3 (0.73; -0.20, 0.39, -0.39, -0.59,
0.20); and the SVM hinge loss for the apple column, which is 0.43 — the slide's 0.33 is an
arithmetic slip, 1.3 - 1.87 + 1 = 0.43.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

import symbackprop as sb
from symbackprop.cli import main
from symbackprop.explain import FanOut, GateGroup, explain

LECTURE = """\
program:
  q = x + y
  f = q * z
  f
at x = -2, y = 5, z = -4

Forward pass
  x = -2
  y = 5
  z = -4
  q = x + y = 3
  f = q * z = -12

Backward pass, from ∂f/∂f = 1
  f = q * z
    (the mul gate switches its inputs: each one's local gradient is the other)
    ∂f/∂q = ∂f/∂f · ∂f/∂q = 1 · z = 1 · (-4) = -4
    ∂f/∂z = ∂f/∂f · ∂f/∂z = 1 · q = 1 · 3 = 3
  q = x + y
    (the add gate distributes the gradient: each input receives it unchanged)
    ∂f/∂x = ∂f/∂q · ∂q/∂x = (-4) · 1 = -4
    ∂f/∂y = ∂f/∂q · ∂q/∂y = (-4) · 1 = -4

Gradient
  ∂f/∂x = -4
  ∂f/∂y = -4
  ∂f/∂z = 3
"""

NEURON = """\
f = 1/(1+exp(-(w0*x0+w1*x1+w2)))
at w0 = 2, x0 = -1, w1 = -3, x1 = -2, w2 = -3

Forward pass
  w0   = 2
  x0   = -1
  w1   = -3
  x1   = -2
  w2   = -3
  mul1 = w0 * x0 = -2
  mul2 = w1 * x1 = 6
  add1 = mul1 + mul2 = 4
  add2 = add1 + w2 = 1
  # 1/(1+exp(-(w0*x0+w1*x1+w2))), computed stably as sigmoid
  f    = sigmoid(add2) = 0.7311

Backward pass, from ∂f/∂f = 1
  f = sigmoid(add2)
    (the sigmoid gate's local gradient is (1-σ)σ, from its own output σ)
    ∂f/∂add2 = ∂f/∂f · ∂f/∂add2 = 1 · ((1 - f) * f)
             = 1 · ((1 - 0.7311) * 0.7311) = 0.1966
  add2 = add1 + w2
    (the add gate distributes the gradient: each input receives it unchanged)
    ∂f/∂add1 = ∂f/∂add2 · ∂add2/∂add1 = 0.1966 · 1 = 0.1966
    ∂f/∂w2 = ∂f/∂add2 · ∂add2/∂w2 = 0.1966 · 1 = 0.1966
  add1 = mul1 + mul2
    ∂f/∂mul1 = ∂f/∂add1 · ∂add1/∂mul1 = 0.1966 · 1 = 0.1966
    ∂f/∂mul2 = ∂f/∂add1 · ∂add1/∂mul2 = 0.1966 · 1 = 0.1966
  mul2 = w1 * x1
    (the mul gate switches its inputs: each one's local gradient is the other)
    ∂f/∂w1 = ∂f/∂mul2 · ∂mul2/∂w1 = 0.1966 · x1 = 0.1966 · (-2) = -0.3932
    ∂f/∂x1 = ∂f/∂mul2 · ∂mul2/∂x1 = 0.1966 · w1 = 0.1966 · (-3) = -0.5898
  mul1 = w0 * x0
    ∂f/∂w0 = ∂f/∂mul1 · ∂mul1/∂w0 = 0.1966 · x0 = 0.1966 · (-1) = -0.1966
    ∂f/∂x0 = ∂f/∂mul1 · ∂mul1/∂x0 = 0.1966 · w0 = 0.1966 · 2 = 0.3932

Gradient
  ∂f/∂w0 = -0.1966
  ∂f/∂x0 = 0.3932
  ∂f/∂w1 = -0.3932
  ∂f/∂x1 = -0.5898
  ∂f/∂w2 = 0.1966
"""

SVM_APPLE = """\
f = max(0, s_banana - s_apple + 1) + max(0, s_pear - s_apple + 1)
at s_banana = 1.3, s_apple = 1.87, s_pear = 0.56

Forward pass
  s_banana = 1.3
  s_apple  = 1.87
  s_pear   = 0.56
  sub1     = s_banana - s_apple = -0.57
  add1     = sub1 + 1 = 0.43
  max1     = max(0, add1) = 0.43
  sub2     = s_pear - s_apple = -1.31
  add2     = sub2 + 1 = -0.31
  max2     = max(0, add2) = 0
  f        = max1 + max2 = 0.43

Backward pass, from ∂f/∂f = 1
  f = max1 + max2
    (the add gate distributes the gradient: each input receives it unchanged)
    ∂f/∂max1 = ∂f/∂f · ∂f/∂max1 = 1 · 1 = 1
    ∂f/∂max2 = ∂f/∂f · ∂f/∂max2 = 1 · 1 = 1
  max2 = max(0, add2)
    (the max gate routes the gradient to the larger input, the first on a tie)
    ∂f/∂add2 = ∂f/∂max2 · ∂max2/∂add2 = 1 · (0 if 0 ≥ add2 else 1)
             = 1 · (0 if 0 ≥ -0.31 else 1) = 0
  add2 = sub2 + 1
    ∂f/∂sub2 = ∂f/∂add2 · ∂add2/∂sub2 = 0 · 1 = 0
  sub2 = s_pear - s_apple
    (the subtract gate distributes the gradient, negated for the right input)
    ∂f/∂s_pear = ∂f/∂sub2 · ∂sub2/∂s_pear = 0 · 1 = 0
    ∂f/∂s_apple = ∂f/∂sub2 · ∂sub2/∂s_apple = 0 · (-1) = 0
  max1 = max(0, add1)
    ∂f/∂add1 = ∂f/∂max1 · ∂max1/∂add1 = 1 · (0 if 0 ≥ add1 else 1)
             = 1 · (0 if 0 ≥ 0.43 else 1) = 1
  add1 = sub1 + 1
    ∂f/∂sub1 = ∂f/∂add1 · ∂add1/∂sub1 = 1 · 1 = 1
  sub1 = s_banana - s_apple
    ∂f/∂s_banana = ∂f/∂sub1 · ∂sub1/∂s_banana = 1 · 1 = 1
    ∂f/∂s_apple = ∂f/∂sub1 · ∂sub1/∂s_apple = 1 · (-1) = -1
  s_apple feeds 2 gates: gradients add: ∂f/∂s_apple = 0 + (-1) = -1

Gradient
  ∂f/∂s_banana = 1
  ∂f/∂s_apple  = -1
  ∂f/∂s_pear   = 0
"""

# asin(0.5) = π/6 = 0.5236, and asin′(0.5) = 1/√(1 - 0.25) = 1.155, so ∂f/∂x = 2.5 · 1.155 =
# 2.887; floor is a step, so y's gradient is asin(0.5) + 0.  Written with NumPy's name arcsin,
# which the derivation calls by the gate's own name, asin.
ASIN = """\
f = arcsin(x) * y + floor(y)
at x = 0.5, y = 2.5

Forward pass
  x      = 0.5
  y      = 2.5
  asin1  = asin(x) = 0.5236
  mul1   = asin1 * y = 1.309
  floor1 = floor(y) = 2
  f      = mul1 + floor1 = 3.309

Backward pass, from ∂f/∂f = 1
  f = mul1 + floor1
    (the add gate distributes the gradient: each input receives it unchanged)
    ∂f/∂mul1 = ∂f/∂f · ∂f/∂mul1 = 1 · 1 = 1
    ∂f/∂floor1 = ∂f/∂f · ∂f/∂floor1 = 1 · 1 = 1
  floor1 = floor(y)
    (⌊x⌋ steps at each integer: its gradient is 0, taken as 0 at the steps too)
    ∂f/∂y = ∂f/∂floor1 · ∂floor1/∂y = 1 · 0 = 0
  mul1 = asin1 * y
    (the mul gate switches its inputs: each one's local gradient is the other)
    ∂f/∂asin1 = ∂f/∂mul1 · ∂mul1/∂asin1 = 1 · y = 1 · 2.5 = 2.5
    ∂f/∂y = ∂f/∂mul1 · ∂mul1/∂y = 1 · asin1 = 1 · 0.5236 = 0.5236
  asin1 = asin(x)
    (d(asin x)/dx = 1/√(1 - x²), infinite at x = ±1)
    ∂f/∂x = ∂f/∂asin1 · ∂asin1/∂x = 2.5 · (1 / sqrt((1 - x) * (1 + x)))
          = 2.5 · (1 / sqrt((1 - 0.5) * (1 + 0.5))) = 2.887
  y feeds 2 gates: gradients add: ∂f/∂y = 0 + 0.5236 = 0.5236

Gradient
  ∂f/∂x = 2.887
  ∂f/∂y = 0.5236
"""

SVM_APPLE_TEXT = "max(0, s_banana - s_apple + 1) + max(0, s_pear - s_apple + 1)"
SVM_BANANA_TEXT = "max(0, s_apple - s_banana + 1) + max(0, s_pear - s_banana + 1)"
SVM_PEAR_TEXT = "max(0, s_apple - s_pear + 1) + max(0, s_banana - s_pear + 1)"


def test_lecture_example_golden():
    assert str(explain("q = x + y; f = q * z; f", x=-2, y=5, z=-4)) == LECTURE.rstrip("\n")


def test_sigmoid_neuron_golden():
    point = {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}
    text = explain("1/(1+exp(-(w0*x0+w1*x1+w2)))", **point)
    assert str(text) == NEURON.rstrip("\n")


def test_inverse_sine_and_a_step_golden():
    assert str(explain("arcsin(x) * y + floor(y)", x=0.5, y=2.5)) == ASIN.rstrip("\n")


def test_svm_apple_column_golden_shows_the_true_arithmetic():
    derivation = explain(SVM_APPLE_TEXT, s_apple=1.87, s_banana=1.3, s_pear=0.56)
    assert str(derivation) == SVM_APPLE.rstrip("\n")
    assert round(derivation.value, 2) == 0.43


@pytest.mark.parametrize(
    ("text", "point", "loss"),
    [
        (SVM_BANANA_TEXT, {"s_apple": -0.4, "s_banana": 1.1, "s_pear": 1.35}, 1.25),
        (SVM_PEAR_TEXT, {"s_apple": 0.1, "s_banana": -0.3, "s_pear": 1.1}, 0.0),
    ],
    ids=["banana", "pear"],
)
def test_svm_other_columns(text, point, loss):
    derivation = explain(text, **point)
    assert derivation.value == pytest.approx(loss, abs=1e-12)
    last = derivation.forward[-1]
    assert (last.name, last.formula) == ("f", "max1 + max2")
    assert derivation.number(last.value) == f"{loss:g}"


def test_the_sigmoid_shortcut_is_shown_with_numbers():
    text = str(explain("sigmoid(t)", t=1.0))
    # σ(1) = 0.7311; (1 − σ)σ = 0.1966
    assert "1 · ((1 - f) * f)" in text
    assert "1 · ((1 - 0.7311) * 0.7311)" in text
    assert "= 0.1966" in text


def test_each_pattern_is_named_once():
    text = str(explain("(a + b) + (c + d)", a=1, b=2, c=3, d=4))
    assert text.count("the add gate distributes the gradient") == 1


def test_fan_out_is_made_explicit():
    derivation = explain("a = x*y\nb = a + x\nb * a", x=2, y=3)
    fan_outs = [item for item in derivation.backward if isinstance(item, FanOut)]
    # ∂f/∂a = b + a... at x=2, y=3: a=6, b=8: from f = b*a, 8; through b, 6.  ∂f/∂x = 6 + 14·3.
    assert [(f.name, f.parts, f.total) for f in fan_outs] == [
        ("a", (8.0, 6.0), 14.0),
        ("x", (6.0, 42.0), 48.0),
    ]
    assert "x feeds 2 gates: gradients add: ∂f/∂x = 6 + 42 = 48" in str(derivation)


def _numbers_agree_with_compile(text, point):
    derivation = explain(text, **point)
    value, gradients = sb.compile(text)(**point)
    assert derivation.value == value
    assert derivation.gradients == gradients
    upstream = {}
    for item in derivation.backward:
        if isinstance(item, GateGroup):
            for edge in item.edges:
                assert edge.gradient == pytest.approx(edge.upstream * edge.local_value)
                upstream.setdefault(edge.input, []).append(edge.gradient)
    for name, gradient in gradients.items():
        assert sum(upstream.get(name, [0.0])) == pytest.approx(gradient)


@pytest.mark.parametrize(
    ("text", "point"),
    [
        ("q = x + y; f = q * z; f", {"x": -2, "y": 5, "z": -4}),
        ("1/(1+exp(-(w0*x0+w1*x1+w2)))", {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}),
        (SVM_APPLE_TEXT, {"s_apple": 1.87, "s_banana": 1.3, "s_pear": 0.56}),
        ("a = x*y\nb = a + x\nb * a / sqrt(y) - log1p(x) * tanh(a)", {"x": 0.3, "y": 1.7}),
        ("x ** y + relu(x - y) + abs(y) + min(x, y, 1)", {"x": 1.5, "y": 0.5}),
        (
            "atan2(y, x) * hypot(x, y) - erf(x) * cbrt(y) + arcsinh(x) / sec(y)",
            {"x": -1.5, "y": 0.5},
        ),
        (
            "log2(x) + log10(y) * exp2(x) - acosh(x) + atanh(y) * sign(y) + ceil(x)",
            {"x": 1.5, "y": 0.5},
        ),
    ],
)
def test_every_number_printed_agrees_with_compile(text, point):
    _numbers_agree_with_compile(text, point)


def test_text_fits_an_80_column_terminal():
    text = str(explain("1/(1+exp(-(w0*x0+w1*x1+w2)))", w0=2, x0=-1, w1=-3, x1=-2, w2=-3))
    assert max(len(line) for line in text.splitlines()) <= 80


def test_colour_only_when_asked():
    derivation = explain("(x + y) * z", x=-2, y=5, z=-4)
    assert "\033[" not in str(derivation)
    colored = derivation.to_text(color=True)
    assert "\033[32m-12\033[0m" in colored  # forward values in green
    assert "\033[31m-4\033[0m" in colored  # gradients in red


def test_cli_output_piped_has_no_colour_codes():
    result = subprocess.run(
        [sys.executable, "-m", "symbackprop", "explain", "(x+y)*z", "--at", "x=-2,y=5,z=-4"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "\033[" not in result.stdout
    assert "∂f/∂x = -4" in result.stdout


def test_markdown_format():
    markdown = explain("(x + y) * z", x=-2, y=5, z=-4).to_markdown()
    assert "| `add1` | `x + y` | 3 |" in markdown
    assert "- ∂f/∂add1 = ∂f/∂f · ∂f/∂add1 = 1 · z = 1 · (-4) = **-4**" in markdown


def test_latex_format():
    latex = explain("(x + y) * z", x=-2, y=5, z=-4).to_latex()
    assert latex.startswith(r"\begin{align*}") and latex.endswith(r"\end{align*}")
    assert r"\frac{\partial f}{\partial x} &= -4" in latex


def test_json_format_is_plain_data():
    derivation = explain("(x + y) * z", x=-2, y=5, z=-4)
    data = json.loads(derivation.to_json())
    assert data == derivation.to_dict()
    assert data["value"] == -12.0 and data["gradient"] == {"x": -4.0, "y": -4.0, "z": 3.0}
    assert [edge["gradient"] for edge in data["backward"][0]["edges"]] == [-4.0, 3.0]


def test_dot_graph_structure():
    dot = explain("q = x + y; f = q * z; f", x=-2, y=5, z=-4).to_dot()
    assert dot.startswith("digraph circuit {") and dot.rstrip().endswith("}")
    assert "rankdir=LR;" in dot
    nodes = dict(re.findall(r"^  (n\d+) \[label=\"([^\"]*)\"", dot, flags=re.MULTILINE))
    assert sorted(nodes.values()) == ["f\\n*", "q\\n+", "x", "y", "z"]
    edges = re.findall(r"^  (n\d+) -> (\w+) \[label=<(.*)>\];$", dot, flags=re.MULTILINE)
    labels = {(nodes.get(a, a), nodes.get(b, b)): label for a, b, label in edges}
    # x = -2 flows into q; its gradient is -4.  q = 3 flows into f with gradient -4.
    assert labels[("x", "q\\n+")] == (
        '<font color="darkgreen">-2</font><br/><font color="red">-4</font>'
    )
    assert labels[("q\\n+", "f\\n*")] == (
        '<font color="darkgreen">3</font><br/><font color="red">-4</font>'
    )


def test_html_repr_for_jupyter():
    assert explain("x * y", x=2, y=3)._repr_html_().startswith("<pre>")


def test_missing_input_is_a_type_error():
    with pytest.raises(TypeError, match="missing input: 'z'"):
        explain("(x + y) * z", x=1, y=2)


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex", "json"])
def test_cli_explain_formats(fmt, capsys):
    assert main(["explain", "(x+y)*z", "--at", "x=-2,y=5,z=-4", "--format", fmt]) == 0
    assert "-12" in capsys.readouterr().out


def test_cli_graph_writes_dot(tmp_path, capsys):
    target = tmp_path / "circuit.dot"
    assert main(["graph", "(x+y)*z", "--at", "x=-2,y=5,z=-4", "-o", str(target)]) == 0
    assert target.read_text().startswith("digraph circuit {")
    assert main(["graph", "(x+y)*z", "--at", "x=-2,y=5,z=-4"]) == 0
    assert capsys.readouterr().out.startswith("digraph circuit {")


def test_cli_graph_names_the_package_when_dot_is_missing(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    status = main(["graph", "(x+y)*z", "--at", "x=-2,y=5,z=-4", "-o", str(tmp_path / "c.svg")])
    assert status == 2
    assert "graphviz" in capsys.readouterr().err


def test_cli_graph_renders_svg_when_graphviz_is_installed(tmp_path):
    import shutil

    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed")
    target = tmp_path / "circuit.svg"
    assert main(["graph", "(x+y)*z", "--at", "x=-2,y=5,z=-4", "-o", str(target)]) == 0
    assert "<svg" in target.read_text()


def test_cli_source_and_diff(capsys):
    assert main(["source", "q = x + y; f = q * z; f"]) == 0
    assert "dq = z" in capsys.readouterr().out
    assert main(["source", "x*y", "--mode", "array", "--wrt", "x"]) == 0
    out = capsys.readouterr().out
    assert "import numpy as np" in out and "dy" not in out
    assert main(["diff", "(x + y) * z"]) == 0
    assert capsys.readouterr().out.splitlines() == ["∂f/∂x = z", "∂f/∂y = z", "∂f/∂z = x + y"]
    assert main(["diff", "x*y", "--format", "latex", "--wrt", "x"]) == 0
    assert capsys.readouterr().out.strip() == r"\frac{\partial f}{\partial x} = y"


def test_cli_errors_exit_2_without_traceback(capsys):
    assert main(["explain", "(x+", "--at", "x=1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("symbackprop: error:") and "Traceback" not in err


def test_rewrite_false_explains_the_lecture_sigmoid_circuit_gate_by_gate():
    point = {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}
    derivation = explain("1/(1+exp(-(w0*x0+w1*x1+w2)))", rewrite=False, **point)
    gates = [step.gate for step in derivation.forward if step.gate]
    assert gates == ["mul", "mul", "add", "add", "neg", "exp", "add", "div"]
    # The lecture's circuit: 1/x gate gives -0.53, exp gives -0.53, *-1 gives -0.20.
    upstreams = {
        edge.output: round(edge.upstream, 2)
        for item in derivation.backward
        if isinstance(item, GateGroup)
        for edge in item.edges
    }
    assert upstreams["exp1"] == -0.53 and upstreams["neg1"] == -0.20
    _numbers_agree_with_compile("1/(1+exp(-(w0*x0+w1*x1+w2)))", point)


def test_cli_no_rewrite_for_explain_and_graph(capsys):
    assert main(["explain", "1/(1+exp(-x))", "--at", "x=1", "--no-rewrite"]) == 0
    assert "exp1 = exp(neg1)" in capsys.readouterr().out
    assert main(["graph", "1/(1+exp(-x))", "--at", "x=1", "--no-rewrite"]) == 0
    assert 'label="exp"' in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "point", "reason", "snippet", "column"),
    [
        # d√x/dx = 1/(2√x) is 1/0 at x = 0: the backward pass fails, at the sqrt.
        ("sqrt(x)", {"x": 0.0}, "division by zero", "the gradient of 'sqrt(x)'", 1),
        # log(−1) has no real value: the forward pass fails, at the log.
        ("y*log(x)", {"x": -1.0, "y": 2.0}, "math domain error", "'log(x)'", 3),
    ],
)
def test_explain_outside_the_domain_is_a_located_error(text, point, reason, snippet, column):
    with pytest.raises(sb.EvaluationError) as caught:
        explain(text, **point)
    assert reason in caught.value.message and snippet in caught.value.message
    assert caught.value.column == column and "^" in str(caught.value)


def test_cli_explain_outside_the_domain_exits_2_without_traceback(capsys):
    assert main(["explain", "sqrt(x)", "--at", "x=0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("symbackprop: error: division by zero") and "Traceback" not in err


def test_a_step_gate_stops_the_gradient_without_adding_zeros():
    """floor's local gradient is 0: nothing flows back through it, and no `+= 0.0` is written."""
    f = sb.compile("sin(floor(x)) + x*y")
    assert "0.0" not in f.source.split("# backward pass")[1].split("def value(")[0]
    assert f(1.5, 2.0)[1] == {"x": 2.0, "y": 1.5}  # d/dx = 0 + y, d/dy = x
    derivation = explain("sin(floor(x)) + x*y", x=1.5, y=2.0)
    assert derivation.gradients == {"x": 2.0, "y": 1.5}
    assert "∂floor1/∂x = 0.5403 · 0 = 0" in str(derivation)


@pytest.mark.parametrize(("text", "value"), [("1", 1.0), ("2 - 1^-1", 1.0), ("2*pi", 2 * math.pi)])
def test_a_constant_formula_is_explained_in_every_format(text, value):
    derivation = explain(text)
    assert derivation.value == value and derivation.gradients == {}
    assert [step.name for step in derivation.forward] == ["f"]
    assert "Forward pass\n  f = " in str(derivation)
    for form in (derivation.to_markdown(), derivation.to_latex(), derivation.to_json()):
        assert "f" in form
    # The circuit has the output's node, not an edge from a node that is not drawn.
    dot = derivation.to_dot()
    assert 'n0 [label="' in dot and "n0 -> out" in dot


def test_cli_explains_and_draws_a_constant_formula(capsys):
    assert main(["explain", "2*3", "--at", ""]) == 0
    assert "f = 6" in capsys.readouterr().out
    assert main(["graph", "2*3", "--at", ""]) == 0
    assert "n0 -> out" in capsys.readouterr().out


@pytest.mark.parametrize(
    "value",
    [
        "abc",
        "1",
        None,
        1j,
        np.array([1j]),
        np.array([1.0, None], dtype=object),
        [[1.0], [1.0, 2.0]],
        np.array(["2020-01-01"], dtype="datetime64[D]"),
    ],
    ids=[
        "string",
        "numeric-string",
        "none",
        "complex",
        "complex-array",
        "object-array",
        "ragged",
        "datetime",
    ],
)
def test_explain_refuses_the_inputs_a_call_refuses(value):
    with pytest.raises(TypeError, match="input 'x' must be"):
        sb.compile("x * y")(value, 2.0)
    with pytest.raises(TypeError, match="input 'x' must be"):
        explain("x * y", x=value, y=2.0)


def test_explain_of_an_integer_too_large_for_a_float_is_our_error():
    with pytest.raises(sb.SymbackpropError, match="too large for a float"):
        explain("x * y", x=10**400, y=2.0)


@pytest.mark.parametrize(
    ("text", "point", "fragment", "column"),
    [
        ("max(x)", {"x": np.array([])}, "zero-size array", 1),
        ("2 * sum(pick(S, y))", {"S": np.ones((2, 3)), "y": np.array([0, 5])}, "out of bounds", 9),
    ],
)
def test_an_array_value_numpy_cannot_compute_is_an_evaluation_error_at_its_gate(
    text, point, fragment, column
):
    for attempt in (lambda: explain(text, **point), lambda: sb.compile(text)(**point)):
        with pytest.raises(sb.EvaluationError, match=fragment) as caught:
            attempt()
        assert caught.value.column == column


# -- a teacher's review: wording, readable numbers, and every format valid ---------------------


@pytest.mark.parametrize(
    ("text", "point", "line"),
    [
        # d(x·x)/dx = 2x = 6 at x = 3: one gate, two inputs — not "2 gates".
        ("x*x", {"x": 3}, "x feeds both inputs of f: gradients add: ∂f/∂x = 3 + 3 = 6"),
        (
            "x/x",
            {"x": 3},
            "x feeds both inputs of f: gradients add: ∂f/∂x = 0.3333 + (-0.3333) = 0",
        ),
        # h² + h with h = 3: 2h (both inputs of h*h) + 1 (the add) = 7, from two gates.
        (
            "h = x + 1; h*h + h",
            {"x": 2},
            "h feeds 3 inputs of 2 gates: gradients add: ∂f/∂h = 1 + 3 + 3 = 7",
        ),
        # x³ = (x·x)·x at x = -2: 4 + 4 through x*x, 4 through the outer mul; 3x² = 12.
        ("x*x*x", {"x": -2}, "x feeds 3 inputs of 2 gates: gradients add: ∂f/∂x = 4 + 4 + 4 = 12"),
        ("x*y + x", {"x": 3, "y": -4}, "x feeds 2 gates: gradients add: ∂f/∂x = 1 + (-4) = -3"),
    ],
)
def test_a_value_used_twice_by_one_gate_is_not_said_to_feed_two_gates(text, point, line):
    derivation = explain(text, **point)
    assert line in str(derivation)
    fan_out = next(item for item in derivation.backward if isinstance(item, FanOut))
    assert sum(fan_out.parts) == pytest.approx(fan_out.total)
    assert line.split(":")[0].strip().split(" ", 1)[1] in derivation.to_markdown()


def test_json_names_the_gate_behind_each_part_of_a_sum():
    data = json.loads(explain("h = x + 1; h*h + h", x=2).to_json())
    fan_out = next(item for item in data["backward"] if "fan_out" in item)
    assert fan_out == {
        "fan_out": "h",
        "parts": [1.0, 3.0, 3.0],
        "sources": ["f", "mul1", "mul1"],
        "total": 7.0,
    }


@pytest.mark.parametrize(
    ("text", "point", "fragment"),
    [
        # 1 - tanh²(-0.5) = 1 - 0.4621² = 0.7864; "1 - -0.4621 * -0.4621" reads as nonsense.
        ("tanh(x)", {"x": -0.5}, "1 · (1 - (-0.4621) * (-0.4621))"),
        ("x / y", {"x": 3, "y": -2}, "1 · (1 / y) = 1 · (1 / (-2)) = -0.5"),
        ("x / y", {"x": 3, "y": -2}, "1 · (-(f / y)) = 1 · (-((-1.5) / (-2))) = -0.75"),
        ("x * -2", {"x": 3}, "f = x * (-2) = -6"),
    ],
)
def test_negative_numbers_are_parenthesized_in_formulas(text, point, fragment):
    assert fragment in str(explain(text, **point))


def test_constants_are_written_as_in_the_formula_not_with_17_digits():
    derivation = explain("0.1*x + 1e-20", x=3)
    text = str(derivation)
    assert "mul1 = 0.1 * x = 0.3" in text and "f    = mul1 + 1e-20 = 0.3" in text
    assert "0.1000000" not in text and "9.99999" not in text
    assert "∂f/∂x = ∂f/∂mul1 · ∂mul1/∂x = 1 · 0.1 = 0.1" in text
    assert "f = 6.283185307179586 = 6.283" in str(explain("2*pi"))
    assert 'label="0.1"' in explain("0.1*x", x=3).to_dot()


@pytest.mark.parametrize(
    ("text", "point", "fragment"),
    [
        # d(x³)/dx = 3x² = 12 at x = -2: the guard of the rule (0 if b == 0 else b - 1) is folded
        # where b is a constant of the formula.
        (
            "x ** 3",
            {"x": -2},
            "∂f/∂x = ∂f/∂f · ∂f/∂x = 1 · (3 * x ** 2) = 1 · (3 * (-2) ** 2) = 12",
        ),
        # d(x^2.5)/dx = 2.5·x^1.5 = 5.541 at x = 1.7
        ("x ** 2.5", {"x": 1.7}, "1 · (2.5 * x ** 1.5) = 1 · (2.5 * 1.7 ** 1.5)"),
        # folding never makes a formula longer: 1 / 3 stays, not 0.3333333333333333
        ("x / 3", {"x": 1}, "∂f/∂x = ∂f/∂f · ∂f/∂x = 1 · (1 / 3) = 0.3333"),
        # a variable exponent keeps its guard, with the values substituted
        ("x ** y", {"x": 2, "y": 3}, "= 1 · (3 * 2 ** (0 if 3 == 0 else 3 - 1)) = 12"),
    ],
)
def test_a_constant_exponent_gives_the_textbook_local_gradient(text, point, fragment):
    assert fragment in str(explain(text, **point))


def test_long_gate_notes_wrap_to_80_columns():
    text = str(explain("x ** y + x ** 2", x=2, y=3))
    assert "(d(a^b)/da = b·a^(b-1) and d(a^b)/db = a^b·log(a)" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_array_gradients_are_shown_in_their_shape_and_broadcasting_sums_back():
    text = str(
        explain("sum(x + b)", x=np.array([[1.0, 2.0], [3.0, 4.0]]), b=np.array([10.0, 20.0]))
    )
    # The sum sends 1 to every element; b was stretched over 2 rows, so it receives 1 + 1 each.
    assert "∂f/∂add1 = expand_to(∂f/∂f, add1) = [[1, 1], [1, 1]]" in text
    assert "∂f/∂x = ∂f/∂add1 = [[1, 1], [1, 1]]" in text
    assert "∂f/∂b = sum_to_shape(∂f/∂add1, shape=(2,)) = [2, 2]" in text
    mean = str(explain("mean(x * y)", x=np.array([1.0, 2.0, 3.0]), y=np.array([4.0, -5.0, 6.0])))
    assert "∂f/∂mul1 = expand_to(∂f/∂f, mul1) / 3 = [0.3333, 0.3333, 0.3333]" in mean
    # a scalar weight times a vector: its gradient is the sum Σ x = 3
    assert "∂f/∂s = sum_to_shape(x * ∂f/∂f, shape=()) = 3" in str(
        explain("sum(x * s)", x=np.array([1.0, 2.0]), s=3.0)
    )


def test_dot_edges_carry_each_use_s_own_gradient():
    # x*x + x at x = 3: each input of the mul sends back x = 3, the add sends 1; 3 + 3 + 1 = 7.
    derivation = explain("x*x + x", x=3)
    assert derivation.gradients == {"x": 7.0}
    dot = derivation.to_dot()
    gradients = re.findall(r"^  n0 -> (n\d+) .*<font color=\"red\">([^<]*)</font>>\];$", dot, re.M)
    assert sorted(gradients) == [("n1", "3"), ("n1", "3"), ("n2", "1")]


def test_latex_is_math_mode_and_compiles():
    derivation = explain("s_apple = x ** 3; max(s_apple, y) + 1e-30 * x", x=-2, y=2)
    latex = derivation.to_latex()
    assert r"\mathit{s\_apple} &= x^{3} = -8 \\" in latex
    assert r"1 \cdot (1 \text{ if } \mathit{s\_apple} \geq y \text{ else } 0) = 0" in latex
    assert r"= 0 \cdot (3 \cdot x^{2}) = 0" in latex  # upstream 0: the max routed to y
    assert r"10^{-30} \cdot x" in latex and "((" not in latex
    arrays = explain("q = W @ x\nsum(q * q)", W=np.eye(2), x=np.array([1.0, 2.0])).to_latex()
    assert (
        r"\frac{\partial f}{\partial x} &= W^\top \mathbin{@} \frac{\partial f}{\partial q}"
        in arrays
    )
    assert (
        r"\frac{\partial f}{\partial W} &= \operatorname{outer}(\frac{\partial f}{\partial q}, x)"
        in arrays
    )
    assert r"\cdot  =" not in arrays
    infinite = explain("x * 1e300 * 1e10", x=1e300).to_latex()
    assert r"\infty" in infinite and "inf " not in infinite
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        pytest.skip("pdflatex is not installed")
    document = "\n".join(
        [
            r"\documentclass{article}\usepackage{amsmath}\begin{document}",
            latex,
            arrays,
            infinite,
            r"\end{document}",
        ]
    )
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "derivation.tex"
        path.write_text(document, encoding="utf-8")
        result = subprocess.run(
            [pdflatex, "-interaction=nonstopmode", "-halt-on-error", path.name],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 0, result.stdout[-2000:]
