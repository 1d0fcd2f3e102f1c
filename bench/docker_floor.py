"""Where the small docker build's time goes: the daemon's own work, and what each way of driving it
adds on top.

* the daemon: the small template's operations in imagesmith's order, timed one by one in one process
  through imagesmith's driver and communicator (each operation opens its own client, as in a build):
  ``docker run`` (create + start), the container user, two shell execs, a file and a directory
  uploaded as one stream (with the directory's stat), ``docker top``, the commit with ``changes``
  (without the pause when top shows only the idle shell), the tag and the removal;
* a docker CLI process: ``docker version`` (one request), the per-command cost of a shell script;
* imagesmith's Python: the interpreter, ``imagesmith version``, and imagesmith's docker client
  import (aiodocker and aiohttp).

    python bench/docker_floor.py [--repeat 7]

The processes and the in-process rounds alternate; medians. Needs dockerd and the local base image.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from imagesmith.builders.docker.driver import ContainerSpec, Driver
from imagesmith.communicator.docker import DockerCommunicator

IMAGE = "imagesmith-test/busybox:latest"
RUN = ["-d", "-i", "-t", "--entrypoint=/bin/sh", "--", "{{.Image}}"]
CHANGES = ["ENV APP_HOME=/srv/app", "WORKDIR /srv/app", 'CMD ["/bin/sh"]']
PROCESSES = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "imagesmith version": [sys.executable, "-m", "imagesmith", "version"],
    "python: import imagesmith's docker client": [
        sys.executable,
        "-c",
        "from imagesmith.docker_engine import import_client; import_client()",
    ],
    "docker CLI: docker version (1 request)": ["docker", "version", "--format", "{{.Server.Version}}"],
}


async def timed(times: dict[str, list[float]], name: str, operation: Callable[[], Awaitable[object]]) -> object:
    start = time.perf_counter()
    result = await operation()
    times.setdefault(name, []).append(time.perf_counter() - start)
    return result


async def one_round(times: dict[str, list[float]], work: Path) -> None:
    """The small build's daemon operations, in order."""
    driver = Driver()
    spec = ContainerSpec(image=IMAGE, run_command=RUN, name=f"imagesmith-floor-{os.getpid()}")
    container = str(await timed(times, "docker run (create + start)", lambda: driver.start_container(spec)))
    try:
        user = str(await timed(times, "inspect (container user)", lambda: driver.container_user(container)))
        comm = DockerCommunicator(container, container_user=user)
        await timed(times, "exec 1 (shell)", lambda: comm.execute("mkdir -p /srv/app; echo one > /srv/app/one"))
        comm.defer_uploads = True  # as the provision hook sets it for file provisioners

        async def uploads() -> None:
            await comm.upload("/srv/app/app.conf", work / "app.conf")
            await comm.upload_dir("/srv/app/site", work / "site")
            await comm.flush()

        await timed(times, "stat + upload a file and a directory (one stream)", uploads)
        comm.defer_uploads = False
        await timed(times, "exec 2 (shell)", lambda: comm.execute("echo two > /srv/app/two; ls /srv/app"))
        rows = await timed(times, "top (is the idle shell alone?)", lambda: driver.processes(container))
        pause = len(rows) != 1  # type: ignore[arg-type]
        commit = driver.commit(container, author="", changes=CHANGES, message="", pause=pause)
        image = str(await timed(times, "commit (changes, no pause)", lambda: commit))
        await timed(times, "tag", lambda: driver.tag(image, "imagesmith-floor/small:latest"))
        await driver.delete_image("imagesmith-floor/small:latest")
    finally:
        await timed(times, "rm -f", lambda: driver.kill_container(container))


def time_process(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - start


def make_inputs(work: Path) -> None:
    (work / "app.conf").write_text("key=value\n")
    (work / "site").mkdir()
    for i in range(20):
        (work / "site" / f"page{i:02d}.html").write_text(f"<p>{i}</p>\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    daemon: dict[str, list[float]] = {}
    processes: dict[str, list[float]] = {name: [] for name in PROCESSES}
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as tmp:
        make_inputs(Path(tmp))
        for _ in range(args.repeat):
            asyncio.run(one_round(daemon, Path(tmp)))
            for name, argv in PROCESSES.items():
                processes[name].append(time_process(argv))
    print("| daemon operation (imagesmith's requests) | median |\n|---|---|")
    for name, values in daemon.items():
        print(f"| {name} | {statistics.median(values) * 1000:.0f} ms |")
    rounds = [sum(values[i] for values in daemon.values()) for i in range(args.repeat)]
    print(f"| **all of them** | **{statistics.median(rounds) * 1000:.0f} ms** |")
    print("\n| process | median |\n|---|---|")
    for name, values in processes.items():
        print(f"| {name} | {statistics.median(values) * 1000:.0f} ms |")
    print(f"\n{args.repeat} rounds; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
