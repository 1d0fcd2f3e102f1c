"""Picking free TCP ports, without two builds of this process picking the same one.

Used by builders that forward ports (qemu's communicator and VNC ports); kept out of the
builders' packages so that a run can open its :func:`port_scope` without importing a builder.

A port is reserved from the moment it is picked until QEMU has bound it and the step that
picked it releases it in its cleanup; the OS cannot see such a port as taken in between, so
the reservations are process-wide (guarded by a lock: builds of two API runs may run in two
threads) and no two builds of one process, of one run or of concurrent runs, get the same port.
Each reservation also belongs to the run that made it (:func:`port_scope`, entered by every
``imagesmith.build``): whatever a run still holds when it ends is released then, so a run that
ended badly cannot keep ports from the runs after it.
"""

from __future__ import annotations

import random
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from imagesmith.errors import BuildError

Reservation = tuple[str, int]
_lock = threading.Lock()
_taken: set[Reservation] = set()
_run_ports: ContextVar[set[Reservation] | None] = ContextVar("imagesmith_run_ports", default=None)


@contextmanager
def port_scope() -> Iterator[set[Reservation]]:
    """Reservations made inside belong to this scope and are released when it ends."""
    owned: set[Reservation] = set()
    token = _run_ports.set(owned)
    try:
        yield owned
    finally:
        _run_ports.reset(token)
        with _lock:
            _taken.difference_update(owned)


def pick_port(host: str, low: int, high: int, what: str) -> int:
    """A port in ``[low, high]`` that ``host`` can bind now (tried in random order, like Packer)."""
    ports = list(range(low, max(low, high) + 1))
    random.shuffle(ports)
    for port in ports:
        with _lock:
            if (host, port) in _taken or not _can_bind(host, port):
                continue
            _taken.add((host, port))
        owned = _run_ports.get()
        if owned is not None:
            owned.add((host, port))
        return port
    raise BuildError(f"Error finding {what} port: no free port in {low}-{high} on {host}")


def release_port(host: str, port: int) -> None:
    """Let another build use ``port`` again."""
    with _lock:
        _taken.discard((host, port))
    owned = _run_ports.get()
    if owned is not None:
        owned.discard((host, port))


def reserved() -> set[Reservation]:
    """The reservations of every run in this process (for tests and leak checks)."""
    with _lock:
        return set(_taken)


def _can_bind(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True
