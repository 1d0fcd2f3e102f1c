"""Picking free TCP ports, without two builds of this process picking the same one."""

from __future__ import annotations

import random
import socket

from imagesmith.core.steps import fail

_taken: set[tuple[str, int]] = set()


def pick_port(host: str, low: int, high: int, what: str) -> int:
    """A port in ``[low, high]`` that ``host`` can bind now (tried in random order, like Packer)."""
    ports = list(range(low, max(low, high) + 1))
    random.shuffle(ports)
    for port in ports:
        if (host, port) in _taken:
            continue
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError:
                continue
        _taken.add((host, port))
        return port
    raise fail(f"Error finding {what} port: no free port in {low}-{high} on {host}")


def release_port(host: str, port: int) -> None:
    """Let another build use ``port`` again."""
    _taken.discard((host, port))
