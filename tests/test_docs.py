"""Executable documentation: every example in docs/*.md and README.md is run and checked.

The conventions (also described at the end of docs/api.md).  The fenced blocks of one Markdown
file run in file order and share one namespace, so a block can use what an earlier one defined.

* ```python  -- executed with `exec`.  What it prints is not compared: a block that states a
  result does so with `assert`, or is written as a ```pycon block instead.
* ```pycon   -- an interactive session (`>>> ` and `... ` lines, then the expected output),
  checked by `doctest` with no option flags: the output must match exactly.  An expected
  exception is written as Python prints it: `Traceback (most recent call last):`, an indented
  `...`, then the exception's lines.
* ```console -- `$ symbackprop ARGS` lines, each followed by its exact expected output (standard
  output, then standard error).  ARGS are split with `shlex` and run as
  `python -m symbackprop ARGS`; the exit status must be 0 exactly when standard error is empty.
* `<!-- output: EXPRESSION -->` on the line just before a fenced block (of any language): the
  block is a listing, not run; its text must equal `str(EXPRESSION)`, evaluated in the file's
  namespace (trailing newlines aside).  The docs show generated source this way, without
  doctest's `<BLANKLINE>` markers.

Other blocks (```bash, ```text ...) are never run.  Separately, the function table of
docs/language.md must list every callable gate and constant of the registry with its arity, and
its operator table every operator gate, so that a gate added without documentation fails here.
"""

from __future__ import annotations

import difflib
import doctest
import io
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from symbackprop.gates import CONSTANTS, FUNCTIONS, GATES, Call, Prefix, Suffix

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
DOCUMENTS = [*sorted(DOCS.glob("*.md")), REPO / "README.md"]
LANGUAGE = DOCS / "language.md"

FENCE = re.compile(r"^```(?P<info>[^`]*)$")
OUTPUT_MARKER = re.compile(r"^<!--\s*output:\s*(?P<expression>.+?)\s*-->$")
PROMPT = "$ "
PROGRAM = "symbackprop"


@dataclass(frozen=True)
class Block:
    """A fenced code block: its language, its text and the line (1-based) of its opening fence."""

    language: str
    text: str
    line: int
    output_of: str | None  # the expression of an `<!-- output: ... -->` marker, if any


def fenced_blocks(path: Path) -> list[Block]:
    """The file's fenced blocks in order; a fence is three backticks at the start of a line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        start = index
        index += 1
        while index < len(lines) and lines[index].rstrip() != "```":
            index += 1
        if index == len(lines):
            raise AssertionError(f"{path.name}:{start + 1}: the code block is never closed")
        marker = OUTPUT_MARKER.match(lines[start - 1].strip()) if start > 0 else None
        blocks.append(
            Block(
                language=opening["info"].split()[0] if opening["info"].strip() else "",
                text="".join(line + "\n" for line in lines[start + 1 : index]),
                line=start + 1,
                output_of=marker["expression"] if marker else None,
            )
        )
        index += 1
    listings = {block.line - 1 for block in blocks if block.output_of is not None}
    for number, line in enumerate(lines, start=1):
        if OUTPUT_MARKER.match(line.strip()) and number not in listings:
            raise AssertionError(f"{path.name}:{number}: an output marker not just before a block")
    return blocks


# ---------------------------------------------------------------------------------------------
# Running the blocks of one document.


def run_python(block: Block, path: Path, namespace: dict[str, Any]) -> None:
    # Blank lines in front keep the file's line numbers in tracebacks.
    code = compile("\n" * block.line + block.text, str(path), "exec")
    exec(code, namespace)


def run_pycon(block: Block, path: Path, namespace: dict[str, Any]) -> None:
    test = doctest.DocTestParser().get_doctest(
        block.text, namespace, f"{path.name}:{block.line}", str(path), block.line
    )
    assert test.examples, f"{path.name}:{block.line}: a pycon block without a '>>> ' example"
    report = io.StringIO()
    runner = doctest.DocTestRunner(verbose=False, optionflags=0)
    result = runner.run(test, out=report.write, clear_globs=False)
    namespace.update(test.globs)  # the DocTest ran in a copy of the namespace
    if result.failed:
        pytest.fail(report.getvalue(), pytrace=False)


def run_console(block: Block, path: Path) -> None:
    commands: list[tuple[int, str, list[str]]] = []
    for offset, line in enumerate(block.text.splitlines(), start=block.line + 1):
        if line.startswith(PROMPT):
            commands.append((offset, line[len(PROMPT) :], []))
        else:
            assert commands, f"{path.name}:{offset}: console output before any '$ ' command"
            commands[-1][2].append(line)
    assert commands, f"{path.name}:{block.line}: a console block without a '$ ' command"
    for line, command, expected_lines in commands:
        words = shlex.split(command)
        assert words[0] == PROGRAM, f"{path.name}:{line}: only '{PROGRAM} ...' commands are run"
        process = subprocess.run(
            [sys.executable, "-m", PROGRAM, *words[1:]],
            cwd=REPO,
            env=_child_environment(),
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=60,
        )
        expected = "".join(text + "\n" for text in expected_lines)
        got = process.stdout + process.stderr
        assert got == expected, f"{path.name}:{line}: $ {command}\n{_diff(expected, got)}"
        assert (process.returncode == 0) == (process.stderr == ""), (
            f"{path.name}:{line}: exit status {process.returncode} with stderr {process.stderr!r}"
        )


def check_listing(block: Block, path: Path, namespace: dict[str, Any]) -> None:
    assert block.output_of is not None
    got = str(eval(block.output_of, namespace))
    assert block.text.rstrip("\n") == got.rstrip("\n"), (
        f"{path.name}:{block.line}: the listing is not the output of {block.output_of}\n"
        + _diff(block.text, got)
    )


def _diff(expected: str, got: str) -> str:
    lines = difflib.unified_diff(
        expected.splitlines(), got.splitlines(), "the document", "the program", lineterm=""
    )
    return "\n".join(lines)


def _child_environment() -> dict[str, str]:
    environment = dict(os.environ)
    paths = [str(REPO), *filter(None, [environment.get("PYTHONPATH")])]
    environment["PYTHONPATH"] = os.pathsep.join(paths)
    environment["PYTHONIOENCODING"] = "utf-8"
    return environment


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda path: path.relative_to(REPO).as_posix())
def test_examples_run(path: Path) -> None:
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    blocks = fenced_blocks(path)
    for block in blocks:
        if block.output_of is not None:
            check_listing(block, path, namespace)
        elif block.language == "python":
            run_python(block, path, namespace)
        elif block.language == "pycon":
            run_pycon(block, path, namespace)
        elif block.language == "console":
            run_console(block, path)


def test_docs_have_checked_examples() -> None:
    """Each document in docs/ checks some output, so the tests above cannot pass vacuously."""
    for path in sorted(DOCS.glob("*.md")):
        languages = {block.language for block in fenced_blocks(path)}
        assert languages & {"pycon", "console"}, f"{path.name} has no checked example"


# ---------------------------------------------------------------------------------------------
# The tables of docs/language.md against the gate registry.


def markdown_table(path: Path, first_header: str) -> list[list[str]]:
    """The body rows (cells stripped) of the table whose first header cell is `first_header`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        cells = _cells(line)
        if cells and cells[0] == first_header and index + 1 < len(lines):
            rows = []
            for row in lines[index + 2 :]:
                if not row.startswith("|"):
                    break
                rows.append(_cells(row))
            return rows
    raise AssertionError(f"{path.name} has no table whose first column is {first_header!r}")


def _cells(line: str) -> list[str]:
    if not line.startswith("|"):
        return []
    # A cell may hold an escaped bar, as in \|x\|.
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def _code_words(cell: str) -> list[str]:
    """The leading identifier of each `code span` in a cell: `max(a, b, ...)` gives max."""
    return [match for match in re.findall(r"`([A-Za-z_]\w*)", cell)]


def test_function_table_lists_every_callable_gate_and_constant() -> None:
    rows = markdown_table(LANGUAGE, "Name")
    documented: dict[str, str] = {}
    for row in rows:
        names = _code_words(row[0])
        assert len(names) == 1, f"one name per row of the function table, got {row[0]!r}"
        assert names[0] not in documented, f"{names[0]} is listed twice"
        documented[names[0]] = row[1]
    expected = {
        name: f"{gate.arity} or more" if gate.variadic else str(gate.arity)
        for name, gate in FUNCTIONS.items()
    }
    expected |= {name: "constant" for name in CONSTANTS}
    missing = sorted(set(expected) - set(documented))
    unknown = sorted(set(documented) - set(expected))
    assert not missing, f"docs/language.md's function table lacks {missing}"
    assert not unknown, f"docs/language.md's function table lists unknown names {unknown}"
    wrong = {name: (documented[name], arity) for name, arity in expected.items()}
    wrong = {name: pair for name, pair in wrong.items() if pair[0] != pair[1]}
    assert not wrong, f"arities in docs/language.md (documented, actual): {wrong}"


def test_operator_table_lists_every_operator_gate() -> None:
    rows = markdown_table(LANGUAGE, "Precedence")
    documented = {name for row in rows for name in _code_words(row[-1])}
    # Operators are the gates written with a symbol; the reductions max(x) and min(x), written
    # as calls, are documented in the max and min rows of the function table.
    operators = {
        name
        for name, gate in GATES.items()
        if not gate.callable and not gate.internal and not isinstance(gate.notation, Call)
    }
    missing = sorted(operators - documented)
    assert not missing, f"docs/language.md's operator table lacks the gates {missing}"
    shown = " ".join(row[1] for row in rows)
    for name in sorted(operators):
        notation = GATES[name].notation
        symbol = notation.symbol  # type: ignore[union-attr]
        if isinstance(notation, Prefix):
            example = f"`{symbol}a`"
        elif isinstance(notation, Suffix):
            example = f"`a{symbol}`"
        else:
            example = f"`a {symbol} b`"
        assert example in shown, f"the operator table does not show {name} as {example}"
