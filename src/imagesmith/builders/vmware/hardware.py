"""``serial`` and ``parallel``: Packer's port strings (``FILE:path``, ``PIPE:path,client,app``, ...)
turned into the ``serial0.*``/``parallel0.*`` values of the ``.vmx``.

Packer reports a malformed port when it writes the ``.vmx``; imagesmith reports it at validation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

DEFAULT_SERIAL_DEVICE = "/dev/ttyS0"


class PortError(ValueError):
    """A ``serial`` or ``parallel`` value Packer would refuse."""


@dataclass(frozen=True)
class SerialPort:
    """``serial0`` values; ``present`` False for ``NONE``."""

    present: bool = False
    type: str = ""
    filename: str = ""
    endpoint: str = ""
    host: str = ""
    yield_: str = ""
    auto: str = "FALSE"


@dataclass(frozen=True)
class ParallelPort:
    present: bool = False
    filename: str = ""
    bidirectional: str = ""
    auto: str = "FALSE"


def _split(value: str) -> tuple[str, str]:
    kind, _, options = value.partition(":")
    return kind.upper(), options


def _yield_flag(value: str, what: str, spec: str) -> str:
    flag = value.upper()
    if flag not in ("TRUE", "FALSE"):
        raise PortError(f"Unexpected format for yield in serial port {what}: {spec} -> {flag}")
    return flag


def parse_serial(spec: str) -> SerialPort:
    """The serial port ``spec`` describes (Packer's ``HWConfig.ReadSerial`` and the vmx step's use of it)."""
    kind, options = _split(spec)
    parts = options.split(",")
    if kind == "PIPE":
        if not 3 <= len(parts) <= 4:
            raise PortError(f"Unexpected format for serial port pipe: {spec}")
        if parts[1].lower() not in ("client", "server"):
            raise PortError(f"Unexpected format for endpoint in serial port pipe: {spec} -> {parts[1].lower()}")
        if parts[2].lower() not in ("app", "vm"):
            raise PortError(f"Unexpected format for host in serial port pipe: {spec} -> {parts[2].lower()}")
        flag = _yield_flag(parts[3] if len(parts) == 4 else "FALSE", "pipe", spec)
        host = "TRUE" if parts[2].lower() == "app" else "FALSE"
        return SerialPort(True, "pipe", parts[0], parts[1], host, flag)
    if kind == "FILE":
        if len(parts) > 2:
            raise PortError(f"Unexpected format for serial port file: {spec}")
        _yield_flag(parts[1] if len(parts) > 1 else "FALSE", "file", spec)
        return SerialPort(True, "file", parts[0])  # Packer drops the file's yield flag
    if kind == "DEVICE":
        if len(parts) > 2:
            raise PortError(f"Unexpected format for serial port device: {spec}")
        # Packer ignores a lone device name: only "DEVICE:name,yield" changes the device.
        device = parts[0] if len(parts) == 2 else DEFAULT_SERIAL_DEVICE
        _yield_flag(parts[1] if len(parts) == 2 else "FALSE", "device", spec)
        return SerialPort(True, "device", device)  # and its yield flag
    if kind == "AUTO":
        flag = _yield_flag(options or "FALSE", "auto", spec)
        return SerialPort(True, "device", DEFAULT_SERIAL_DEVICE, yield_=flag, auto="TRUE")
    if kind == "NONE":
        return SerialPort()
    raise PortError(f"Unknown serial type {kind}: {spec}")


def parse_parallel(spec: str) -> ParallelPort:
    """The parallel port ``spec`` describes (Packer's ``HWConfig.ReadParallel``)."""
    kind, options = _split(spec)
    if kind == "FILE":
        return ParallelPort(True, options)
    if kind == "DEVICE":
        parts = options.split(",")
        if len(parts) > 2:
            raise PortError(f"Unexpected format for parallel port: {spec}")
        direction = parts[1].upper() if len(parts) > 1 else "UNI"
        if direction not in ("BI", "UNI"):
            raise PortError(f"Unknown direction {direction} specified for parallel port: {spec}")
        return ParallelPort(True, parts[0], "TRUE" if direction == "BI" else "FALSE")
    if kind == "AUTO":
        direction = options.upper() or "UNI"
        if direction not in ("BI", "UNI"):
            raise PortError(f"Unknown direction {direction} specified for parallel port: {spec}")
        return ParallelPort(True, "", "TRUE" if direction == "BI" else "FALSE", "TRUE")
    if kind == "NONE":
        return ParallelPort()
    raise PortError(f"Unexpected format for parallel port: {spec}")


def check_serial(spec: str) -> Iterator[str]:
    try:
        parse_serial(spec)
    except PortError as exc:
        yield f"Error processing VMX template: {exc}"


def check_parallel(spec: str) -> Iterator[str]:
    try:
        parse_parallel(spec)
    except PortError as exc:
        yield f"Error processing VMX template: {exc}"
