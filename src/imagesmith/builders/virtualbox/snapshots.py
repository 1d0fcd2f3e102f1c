"""A VM's snapshot tree, read from ``VBoxManage snapshot VM list --machinereadable``.

VirtualBox lists each snapshot as ``SnapshotName<path>="..."`` and ``SnapshotUUID<path>="..."``,
where ``<path>`` is ``-i-j...`` (the child indices from the root), and follows the current one with
``CurrentSnapshot...`` lines. As in Packer 1.6.6, a ``Current...`` line marks the snapshot listed
just before it, and names are compared case-insensitively except among a snapshot's children.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

NO_SNAPSHOTS = "This machine does not have any snapshots"
LINE = re.compile(r'Snapshot(Name|UUID)((?:-[1-9]+)*)="([^"]*)"')


@dataclass(eq=False)
class Snapshot:
    name: str = ""
    uuid: str = ""
    is_current: bool = False
    parent: Snapshot | None = None
    children: list[Snapshot] = field(default_factory=list)

    def walk(self) -> Iterator[Snapshot]:
        """Every snapshot of this one's tree, children before their parent (Packer's order)."""
        for child in self.children:
            yield from child.walk()
        yield self

    def root(self) -> Snapshot:
        node = self
        while node.parent is not None:
            node = node.parent
        return node

    def find_by_name(self, name: str) -> list[Snapshot]:
        return [node for node in self.root().walk() if node.name.lower() == name.lower()]

    def find_by_uuid(self, uuid: str) -> Snapshot | None:
        return next((node for node in self.root().walk() if node.uuid.lower() == uuid.lower()), None)

    def current(self) -> Snapshot | None:
        return next((node for node in self.root().walk() if node.is_current), None)

    def child_named(self, name: str) -> Snapshot | None:
        return next((child for child in self.children if child.name == name), None)


def parse_snapshots(output: str) -> Snapshot | None:
    """The root of the tree ``output`` lists, None when the VM has no snapshot."""
    root: Snapshot | None = None
    node: Snapshot | None = None
    by_path: dict[str, Snapshot] = {}
    for line in output.split("\n"):
        line = line.rstrip("\r")
        if line.startswith("Current") and "=" in line:
            if node is not None:
                node.is_current = True
            continue
        match = LINE.search(line)
        if match is None:
            continue
        kind, path, value = match.groups()
        if kind == "UUID":
            if node is not None:
                node.uuid = value
            continue
        parent = by_path.get(path.rsplit("-", 1)[0]) if path else None
        node = Snapshot(name=value, parent=parent)
        if parent is not None:
            parent.children.append(node)
        elif root is None:
            root = node
        by_path[path] = node
    return root
