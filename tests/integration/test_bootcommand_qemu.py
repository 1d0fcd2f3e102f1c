"""Boot command drivers against a real QEMU with no guest: QMP and VNC sessions accept keys."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from imagesmith.bootcommand import QmpKeyDriver, VncKeyDriver, choose_pacing, parse_boot_command, type_commands
from imagesmith.bootcommand.qmp import QmpClient, QmpError
from imagesmith.bootcommand.vnc import VncClient, VncError

pytestmark = pytest.mark.integration


def _free_vnc_display() -> int:
    for display in range(40, 100):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", 5900 + display))
            except OSError:
                continue
            return display
    raise RuntimeError("no free VNC port")


@pytest.fixture
def qemu(need_qemu: None) -> Iterator[tuple[Path, int]]:
    tmp = Path(tempfile.mkdtemp(prefix="imagesmith-bc-"))
    sock = tmp / "qmp.sock"
    display = _free_vnc_display()
    proc = subprocess.Popen(
        ["qemu-system-x86_64", "-m", "32", "-display", "none", "-nodefaults", "-machine", "pc,accel=tcg",
         "-vnc", f"127.0.0.1:{display}", "-qmp", f"unix:{sock},server,nowait"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        while time.monotonic() < deadline:  # the VNC listener comes up after the QMP socket
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", 5900 + display)) == 0:
                    break
            time.sleep(0.02)
        yield sock, 5900 + display
    finally:
        proc.terminate()
        proc.wait(10)
        for p in tmp.iterdir():
            p.unlink()
        tmp.rmdir()


TEXT = 'linux ks=http://10.0.2.2:8123/ks.cfg <leftShiftOn>abc<leftShiftOff> ~!@#$%^&*()_+{}|:"<>? <f12><menu><enter>'


def test_qmp_types_every_kind_of_key(qemu: tuple[Path, int]) -> None:
    sock, _ = qemu

    async def main() -> float:
        qmp = await QmpClient.connect(sock)
        try:
            t0 = time.monotonic()
            driver = await QmpKeyDriver.open(qmp)
            assert driver.watch is not None  # QEMU's vCPU threads are readable here
            await type_commands(parse_boot_command(TEXT), driver, choose_pacing("qmp", 0.0, {}))
            elapsed = time.monotonic() - t0
            with pytest.raises(QmpError, match="QMP input-send-event failed"):
                await qmp.execute("input-send-event", {"events": [{"type": "key", "data": {
                    "down": True, "key": {"type": "qcode", "data": "nosuchkey"}}}]})  # fmt: skip
            status = await qmp.execute("query-status")
            assert status["status"] == "running"
            return elapsed
        finally:
            await qmp.close()

    elapsed = asyncio.run(main())
    n = len(parse_boot_command(TEXT))
    # Packer waits at least 2 events x 100 ms per key; QMP typing does not wait per key, so even a heavily
    # loaded machine stays under Packer's floor (the 10x speed-up itself is measured in bench/qemu_iso.py).
    assert elapsed < n * 0.2, elapsed


def test_vnc_handshake_and_key_events(qemu: tuple[Path, int]) -> None:
    sock, port = qemu

    async def main() -> None:
        vnc = await VncClient.connect("127.0.0.1", port)
        qmp = await QmpClient.connect(sock)
        try:
            mine = str(vnc._writer.get_extra_info("sockname")[1])
            info = await qmp.execute("query-vnc")
            assert info["enabled"] and mine in [c["service"] for c in info["clients"]]
            await type_commands(parse_boot_command("root<enter>"), VncKeyDriver(vnc), choose_pacing("vnc", 0.001, {}))
            info = await qmp.execute("query-vnc")
            assert mine in [c["service"] for c in info["clients"]]  # QEMU did not drop us for a malformed message
        finally:
            await vnc.close()
            await qmp.close()

    asyncio.run(main())


def test_vnc_connect_error_names_the_address() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(VncError, match=f"127.0.0.1:{port}"):
        asyncio.run(VncClient.connect("127.0.0.1", port, timeout=2))


def test_qmp_connect_times_out_on_missing_socket(tmp_path: Path) -> None:
    with pytest.raises(QmpError, match="could not connect"):
        asyncio.run(QmpClient.connect(tmp_path / "none.sock", timeout=0.2))
    assert os.listdir(tmp_path) == []
