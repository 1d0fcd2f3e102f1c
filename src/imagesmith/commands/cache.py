"""``imagesmith cache list|prune|clear``: look after the provisioner layer cache (docs/layers.md).

``prune [-max-size 20G] [-older-than 7d]`` removes damaged entries, entries unused for longer than
``-older-than``, then the least recently used ones until the rest fit in ``-max-size``. ``clear``
removes every entry. Both wait for running builds to release the cache.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

from imagesmith.errors import EXIT_OK, UsageError

ACTIONS = ("list", "prune", "clear")


def add_arguments(parser: Any) -> None:
    parser.flag("max-size", default="", metavar="SIZE", help="prune: keep at most this much (20G, 512M).")
    parser.flag("older-than", default="", metavar="AGE", help="prune: remove entries unused for this long (7d).")
    parser.add_argument("action", nargs="?", help="list, prune or clear")


def run(options: argparse.Namespace) -> int:
    from imagesmith.layers.prune import parse_age, parse_size
    from imagesmith.layers.store import LayerStore

    if options.action not in ACTIONS:
        raise UsageError("expected an action: list, prune or clear", hint="imagesmith cache list|prune|clear")
    if options.action != "prune" and (options.max_size or options.older_than):
        raise UsageError("-max-size and -older-than go with prune")
    store = LayerStore()
    if options.action == "list":
        _print_list(store)
        return EXIT_OK
    max_size = parse_size(options.max_size) if options.max_size else None
    older_than = parse_age(options.older_than) if options.older_than else None
    asyncio.run(_remove(store, options.action == "clear", max_size, older_than))
    return EXIT_OK


def _print_list(store: Any) -> None:
    from imagesmith.layers.prune import format_size, list_entries
    from imagesmith.layers.session import format_age

    items = list_entries(store)
    print(f"Layer cache: {store.root}")
    total = 0
    for item in items:
        used = format_age(time.time() - item.last_used)
        if item.entry is None:
            print(f"{item.key[:12]}  damaged ({item.problem}); prune removes it")
            continue
        e = item.entry
        total += e.size
        print(
            f"{e.key[:12]}  {e.builder}  layer {e.position} ({e.provisioner})  {format_size(e.size)}  "
            f"created {format_age(time.time() - e.created)} ago, used {used} ago  {e.ref}"
        )
    print(f"{len(items)} entr{'y' if len(items) == 1 else 'ies'}, {format_size(total)}")


async def _remove(store: Any, everything: bool, max_size: int | None, older_than: float | None) -> None:
    from imagesmith.builders.docker.layers import KIND, remove_layer_image
    from imagesmith.builders.qemu.layers import KIND as QEMU_KIND
    from imagesmith.builders.qemu.layers import remove_layer_data, remove_orphans
    from imagesmith.layers.prune import choose_victims, format_size, list_entries, remove_entries

    with store.using(exclusive=True, on_wait=_say_waiting):
        items = list_entries(store)
        victims = (
            items if everything else choose_victims(items, max_size=max_size, older_than=older_than, now=time.time())
        )
        freed = await remove_entries(store, victims, {KIND: remove_layer_image, QEMU_KIND: remove_layer_data})
        remove_orphans(item.entry.ref for item in list_entries(store) if item.entry and item.entry.kind == QEMU_KIND)
    print(f"Removed {len(victims)} of {len(items)} entries ({format_size(freed)}).")


def _say_waiting() -> None:
    print("Waiting for running builds to release the layer cache...", file=sys.stderr)
