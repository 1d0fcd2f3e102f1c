"""Benchmark: one playbook of N small tasks through imagesmith's SSH proxy, Packer 1.6.6's proxy and plain
ansible-playbook over SSH, taking turns in the same run.

The target is a test sshd on 127.0.0.1 (root, a one-time key), reached by the null builder's SSH
communicator for both proxies and directly by plain ansible; ``--docker`` adds both proxies in front
of a container of the Debian test image. What is timed is the ansible-playbook process alone (a
wrapper given as ``command`` measures it), so build set-up does not count. Every run gets the same
``ANSIBLE_*`` settings: ControlPersist as ansible's default, Packer's ``+ssh-rsa`` options (which it
needs here; harmless for the others), a fresh ControlPath directory per run, and ``use_sftp``.

    python bench/ansible.py [--tasks 50] [--rounds 3] [--docker | --docker-only] [--as-needed]

``--as-needed`` gives each tool only what it needs here instead: Packer's proxy the ``+ssh-rsa``
options (through ANSIBLE_SSH_ARGS, which drops ansible's ControlPersist) and ``use_sftp``;
imagesmith's proxy and plain ansible nothing, so ansible's defaults (ControlPersist 60 s) apply.

Prints a markdown table of medians and the ratios. Needs sshd, ansible-playbook and packer.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEBIAN_IMAGE = "imagesmith-test/debian-cm:bookworm"
SSH_ARGS = (
    "-C -o ControlMaster=auto -o ControlPersist=5s -o HostKeyAlgorithms=+ssh-rsa -o PubkeyAcceptedAlgorithms=+ssh-rsa"
)


def make_playbook(work: Path, tasks: int) -> Path:
    lines = [
        "- hosts: all",
        "  gather_facts: false",
        "  vars: {ansible_python_interpreter: /usr/bin/python3}",
        "  tasks:",
    ]
    lines.append("    - file: {path: /tmp/imagesmith-bench, state: directory}")
    for i in range(tasks - 1):
        if i % 2:
            lines.append(f"    - copy: {{content: 'task {i}', dest: /tmp/imagesmith-bench/f{i}}}")
        else:
            lines.append(f"    - command: echo task {i}")
    lines.append("    - file: {path: /tmp/imagesmith-bench, state: absent}")  # the SSH target is this host
    path = work / "playbook.yml"
    path.write_text("\n".join(lines) + "\n")
    return path


def make_timer(work: Path) -> tuple[Path, Path]:
    """An ansible-playbook wrapper that appends its own run time to a file (``--version`` untimed)."""
    log = work / "seconds.log"
    real = shutil.which("ansible-playbook")
    wrapper = work / "timed-ansible-playbook"
    wrapper.write_text(
        "#!/usr/bin/env python3\nimport subprocess, sys, time\n"
        "start = time.monotonic()\n"
        f"code = subprocess.call([{real!r}, *sys.argv[1:]])\n"
        "if sys.argv[1:] != ['--version']:\n"
        f"    open({str(log)!r}, 'a').write(f'{{time.monotonic() - start:.3f}}\\n')\n"
        "sys.exit(code)\n"
    )
    wrapper.chmod(0o755)
    return wrapper, log


def start_sshd(work: Path) -> tuple[subprocess.Popen[bytes], int, Path]:
    d = work / "sshd"
    d.mkdir()
    for name in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / name)], check=True)
    shutil.copy(d / "client.pub", d / "authorized_keys")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host\nAuthorizedKeysFile {d}/authorized_keys\n"
        f"PidFile {d}/sshd.pid\nUsePAM no\nStrictModes no\nPermitRootLogin yes\n"
        "Subsystem sftp /usr/lib/openssh/sftp-server\nMaxSessions 100\nMaxStartups 100\n"
    )
    os.makedirs("/run/sshd", exist_ok=True)
    proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(d / "sshd_config")], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    return proc, port, d / "client"


#: ``--as-needed``: the least each tool needs here. Packer's proxy needs the ``+ssh-rsa`` options (which,
#: set through ANSIBLE_SSH_ARGS, replace ansible's ControlPersist defaults) and ``use_sftp``; imagesmith's
#: and plain SSH need nothing.
PACKER_NEEDS = "-o HostKeyAlgorithms=+ssh-rsa -o PubkeyAcceptedAlgorithms=+ssh-rsa"


def write_template(
    work: Path, name: str, builder: dict[str, object], command: Path, playbook: Path, ssh_args: str | None = SSH_ARGS
) -> Path:
    provisioner: dict[str, object] = {"type": "ansible", "playbook_file": str(playbook), "command": str(command)}
    if ssh_args is not None:
        provisioner |= {"use_sftp": True, "ansible_env_vars": [f"ANSIBLE_SSH_ARGS={ssh_args}"]}
    path = work / f"{name}.json"
    path.write_text(json.dumps({"builders": [builder], "provisioners": [provisioner]}, indent=1))
    return path


def run_tool(tool: str, template: Path, work: Path) -> None:
    argv = [sys.executable, "-m", "imagesmith"] if tool == "imagesmith" else ["packer"]
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "ANSIBLE_SSH_CONTROL_PATH_DIR": tempfile.mkdtemp(dir=work)}
    done = subprocess.run([*argv, "build", str(template)], cwd=work, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{tool} build {template.name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def run_plain(command: Path, playbook: Path, port: int, key: Path, work: Path, as_needed: bool = False) -> None:
    inventory = work / "plain-inventory"
    inventory.write_text(f"default ansible_host=127.0.0.1 ansible_user=root ansible_port={port}\n")
    env = {
        **os.environ,
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_SSH_CONTROL_PATH_DIR": tempfile.mkdtemp(dir=work),
    }
    if not as_needed:
        env["ANSIBLE_SSH_ARGS"] = SSH_ARGS
    argv = [str(command), "-e", f"ansible_ssh_private_key_file={key}", "-i", str(inventory), str(playbook)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"plain ansible-playbook failed:\n{done.stdout[-3000:]}")


def last_seconds(log: Path) -> float:
    return float(log.read_text().split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--docker", action="store_true", help="also both proxies in front of a container")
    parser.add_argument("--docker-only", action="store_true", help="only the two proxies in front of a container")
    parser.add_argument("--as-needed", action="store_true", help="each tool with only the settings it needs here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="imagesmith-bench-ansible-") as tmp:
        work = Path(tmp)
        playbook = make_playbook(work, args.tasks)
        command, log = make_timer(work)
        sshd, port, key = start_sshd(work)
        try:
            cases = plan(work, port, key, command, playbook, args.docker or args.docker_only, args.as_needed)
            if args.docker_only:
                cases = {name: action for name, action in cases.items() if "docker" in name}
            times: dict[str, list[float]] = {name: [] for name in cases}
            for round_no in range(args.rounds):
                for name, action in cases.items():
                    action()
                    times[name].append(last_seconds(log))
                    print(f"round {round_no + 1}: {name}: {times[name][-1]:.1f} s", file=sys.stderr)
        finally:
            sshd.terminate()
            sshd.wait(10)
    report(times, args.tasks)


def plan(
    work: Path, port: int, key: Path, command: Path, playbook: Path, docker: bool, as_needed: bool
) -> dict[str, object]:
    null = {"type": "null", "ssh_host": "127.0.0.1", "ssh_port": port, "ssh_username": "root",
            "ssh_private_key_file": str(key)}  # fmt: skip
    ours_args, theirs_args = (None, PACKER_NEEDS) if as_needed else (SSH_ARGS, SSH_ARGS)
    builders = {"ssh": null}
    if docker:
        builders["docker"] = {"type": "docker", "image": DEBIAN_IMAGE, "pull": False, "discard": True}
    cases: dict[str, object] = {}
    for kind, builder in builders.items():
        ours = write_template(work, f"{kind}-ours", builder, command, playbook, ours_args)
        theirs = write_template(work, f"{kind}-packer", builder, command, playbook, theirs_args)
        cases[f"imagesmith proxy ({kind})"] = lambda t=ours: run_tool("imagesmith", t, work)
        cases[f"Packer 1.6.6 proxy ({kind})"] = lambda t=theirs: run_tool("packer", t, work)
        if kind == "ssh":
            cases["plain ansible over SSH"] = lambda: run_plain(command, playbook, port, key, work, as_needed)
    return cases


def report(times: dict[str, list[float]], tasks: int) -> None:
    medians = {name: statistics.median(values) for name, values in times.items()}
    plain = medians.get("plain ansible over SSH", 0.0)
    print(f"| {tasks}-task playbook | ansible-playbook median | runs | vs plain SSH |")
    print("|---|---:|---|---:|")
    for name, median in medians.items():
        runs = ", ".join(f"{v:.1f}" for v in times[name])
        ratio = f"{median / plain:.2f}x" if plain else "-"
        print(f"| {name} | {median:.1f} s | {runs} | {ratio} |")
    for kind in ("ssh", "docker"):
        ours, theirs = medians.get(f"imagesmith proxy ({kind})"), medians.get(f"Packer 1.6.6 proxy ({kind})")
        if ours and theirs:
            print(f"\nimagesmith / Packer proxy ({kind}): {ours / theirs:.2f}x")


if __name__ == "__main__":
    main()
