"""The function library: cty's standard library and Packer's own functions, by name."""

from __future__ import annotations

from functools import cache

from imagesmith.hcl2.function import Function


@cache
def _all() -> dict[str, Function]:
    from imagesmith.hcl2.functions import (
        collections,
        encoding,
        filesystem,
        network,
        numeric,
        secretstores,
        strings,
        timefuncs,
        typeconv,
    )

    table: dict[str, Function] = {}
    for module in (strings, numeric, collections, encoding, typeconv, filesystem, timefuncs, network, secretstores):
        table.update(module.FUNCTIONS)
    for name, fn in table.items():
        fn.name = name
    return table


def standard_functions() -> dict[str, Function]:
    """A fresh table of every function (callers may add or remove entries)."""
    return dict(_all())
