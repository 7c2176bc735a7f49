"""Python names for the values of generated code: the one module that decides them.

Inputs keep the user's names and let-bindings their binding names; intermediates are called
`<gate><k>` (`mul1`, `exp2`) and gradients `d<name>`.  A user's name that would collide with a
Python keyword, a builtin or a name the generated module uses (`np`, `exp`, `sum_to_shape` ...)
gets a trailing underscore, so `lambda`, `None`, `np` or `__import__` are ordinary variables that
reach nothing.  Imports only the standard library and `graph`.
"""

from __future__ import annotations

import builtins
import keyword
from collections.abc import Iterable, Mapping, Sequence

from .graph import CONSTANT, GRADIENT, Node

PYTHON_RESERVED = (
    frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins))
)


class Namer:
    """Hands out unique Python identifiers, never one of `reserved`."""

    def __init__(self, reserved: Iterable[str]) -> None:
        self.taken: set[str] = set(PYTHON_RESERVED) | set(reserved)
        self._counters: dict[str, int] = {}

    def claim(self, wanted: str) -> str:
        """`wanted` itself if free, else `wanted_`, `wanted__` ..."""
        name = wanted
        while name in self.taken:
            name += "_"
        self.taken.add(name)
        return name

    def numbered(self, stem: str) -> str:
        """The next free `<stem><k>`, counting per stem from 1."""
        while True:
            self._counters[stem] = self._counters.get(stem, 0) + 1
            name = f"{stem}{self._counters[stem]}"
            if name not in self.taken:
                self.taken.add(name)
                return name


def python_names(
    nodes: Sequence[Node], namer: Namer, aliases: Mapping[int, int] | None = None
) -> dict[int, str]:
    """A Python identifier for every non-constant node, claimed from `namer`.

    User names are claimed first, in node order, so they win over generated ones; a gradient is
    named after the value it is the gradient of.  A node in `aliases` shares the name of the node
    it maps to (a temporary written straight into a gradient variable).
    """
    aliases = aliases or {}
    names: dict[int, str] = {}
    for index, node in enumerate(nodes):
        if node.label is not None and node.op != CONSTANT:
            names[index] = namer.claim(node.label)
    for index, node in enumerate(nodes):
        if index in names or index in aliases or node.op in (CONSTANT, GRADIENT):
            continue
        names[index] = namer.numbered(node.op)
    for index, node in enumerate(nodes):
        if node.op == GRADIENT and index not in aliases:
            names[index] = namer.claim("d" + names[node.args[0]].rstrip("_"))
    for index, target in aliases.items():
        names[index] = names[target]
    return names
