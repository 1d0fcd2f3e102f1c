"""What the desktop drivers read from VMware's host configuration under ``/etc/vmware``:
the network map (``netmap.conf``: network names → vmnet devices), the host's address on a
vmnet (``vmnetN/dhcpd/dhcpd.conf``'s ``host vmnetN { fixed-address ... }``: the HTTP IP) and the
guest's address (the DHCP leases file, matched by the NIC's MAC from the ``.vmx``).

Only the parts of these formats that VMware writes are understood (a small tokenizer, not the
whole ISC dhcpd grammar).
"""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass
from pathlib import Path

VMWARE_ROOT = Path("/etc/vmware")
_NETMAP_LINE = re.compile(r'^\s*network(\d+)\.(\w+)\s*=\s*"?(.*?)"?\s*$')
_LEASE = re.compile(r"lease\s+([0-9.]+)\s*\{(.*?)\}", re.S)


def read_netmap(text: str) -> dict[str, list[str]]:
    """Network name (lower-cased) → its devices."""
    entries: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        m = _NETMAP_LINE.match(line)
        if m:
            entries.setdefault(m[1], {})[m[2].lower()] = m[3]
    out: dict[str, list[str]] = {}
    for entry in entries.values():
        if "name" in entry and "device" in entry:
            out.setdefault(entry["name"].lower(), []).append(entry["device"])
    return out


def _strip_comments(text: str) -> str:
    return re.sub(r"#[^\n]*", "", text)


def host_address(dhcpd_conf: str, device: str) -> str:
    """The ``fixed-address`` of ``host DEVICE { ... }``, or ``""``."""
    for m in re.finditer(r"host\s+(\S+)\s*\{(.*?)\}", _strip_comments(dhcpd_conf), re.S):
        if m[1].lower() == device.lower():
            fixed = re.search(r"fixed-address\s+([^;\s]+)\s*;", m[2])
            if fixed:
                return fixed[1]
    return ""


@dataclass(frozen=True)
class Lease:
    address: str
    mac: str
    starts: float
    ends: float


def _lease_time(body: str, what: str) -> float:
    m = re.search(rf"{what}\s+\d\s+(\d{{4}}/\d\d/\d\d \d\d:\d\d:\d\d)\s*;", body)
    if not m:
        return 0.0
    return float(calendar.timegm(time.strptime(m[1], "%Y/%m/%d %H:%M:%S")))


def read_leases(text: str) -> list[Lease]:
    leases = []
    for m in _LEASE.finditer(_strip_comments(text)):
        mac = re.search(r"hardware\s+ethernet\s+([0-9a-fA-F:]+)\s*;", m[2])
        if mac:
            leases.append(Lease(m[1], mac[1].lower(), _lease_time(m[2], "starts"), _lease_time(m[2], "ends")))
    return leases


def guest_addresses(leases: list[Lease], mac: str, now: float) -> list[str]:
    """Addresses leased to ``mac``: the current leases, or any lease of that MAC when none is current."""
    mine = [lease for lease in leases if lease.mac == mac.lower()]
    current = [lease.address for lease in mine if lease.starts < now < lease.ends]
    return current or [lease.address for lease in mine]


def device_file(device: str, candidates: tuple[str, ...], root: Path = VMWARE_ROOT) -> Path | None:
    """The first of ``root/device/<candidate>`` that exists."""
    for candidate in candidates:
        path = root / device / candidate
        if path.exists():
            return path
    return None


LEASE_FILES = ("dhcpd/dhcpd.leases", "dhcpd/dhcp.leases", "dhcp/dhcpd.leases", "dhcp/dhcp.leases")
CONF_FILES = ("dhcp/dhcp.conf", "dhcp/dhcpd.conf", "dhcpd/dhcp.conf", "dhcpd/dhcpd.conf")


class NetworkError(Exception):
    """VMware's host configuration does not say what Packer needs (the message is Packer's)."""


def read_network_map(root: Path = VMWARE_ROOT) -> dict[str, list[str]]:
    path = root / "netmap.conf"
    try:
        return read_netmap(path.read_text(errors="replace"))
    except OSError as exc:
        raise NetworkError(f"Could not find netmap conf file: {path}") from exc


def network_devices(network: str, vnet: str, root: Path = VMWARE_ROOT) -> list[str]:
    """The vmnet devices of ``network`` (a netmap name, or ``custom`` with ``vnet``)."""
    devices = read_network_map(root).get(network.lower(), [])
    if network == "custom" or not devices:
        if not vnet:
            raise NetworkError(f'Unable to determine the device name for the connection type "{network}" : {vnet}')
        devices = [*devices, vnet]
    return devices


def find_host_ip(devices: list[str], root: Path = VMWARE_ROOT) -> str:
    """The host's address on the first of ``devices`` whose DHCP configuration names it."""
    for device in devices:
        path = device_file(device, CONF_FILES, root)
        if path is None:
            raise NetworkError(f"Could not find vmnetdhcp conf file: {root / device / CONF_FILES[-1]}")
        address = host_address(path.read_text(errors="replace"), device)
        if address:
            return address
    raise NetworkError(f"Unable to find host IP from devices {devices}")


def find_guest_ips(devices: list[str], mac: str, root: Path = VMWARE_ROOT) -> list[str]:
    """Addresses the vmnet DHCP servers leased to ``mac`` (may be empty: no lease yet)."""
    found: list[str] = []
    for device in devices:
        path = device_file(device, LEASE_FILES, root)
        if path is not None:
            found += guest_addresses(read_leases(path.read_text(errors="replace")), mac, time.time())
    return found
