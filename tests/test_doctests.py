"""Every example in the package's docstrings runs, so the examples cannot rot."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import symbackprop

MODULES = sorted(
    info.name
    for info in pkgutil.iter_modules(symbackprop.__path__, prefix="symbackprop.")
    if info.name != "symbackprop.__main__"
)


@pytest.mark.parametrize("name", ["symbackprop", *MODULES])
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0
