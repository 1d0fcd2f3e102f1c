"""Helpers for the remote ansible provisioner's integration tests.

``recording_command`` makes an ``ansible-playbook`` wrapper for the ``command`` option: it appends its
argv, the ``ANSIBLE_*`` variables it was given and a copy of its inventory to a log, then runs the
real ansible-playbook, so imagesmith's and Packer's invocations can be compared.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

PLAYBOOK = """\
- hosts: all
  gather_facts: false
  vars:
    ansible_python_interpreter: /usr/bin/python3
    target: "{{ target_dir | default('/etc') }}"
  tasks:
    - copy: {src: files/hello.txt, dest: "{{ target }}/imagesmith-ansible-copy.txt", mode: "0644"}
    - template: {src: templates/info.j2, dest: "{{ target }}/imagesmith-ansible-info.txt", mode: "0644"}
    - command: sh -c 'echo ran > {{ target }}/imagesmith-ansible-command.txt'
    - fetch: {src: "{{ target }}/imagesmith-ansible-info.txt", dest: "{{ playbook_dir }}/fetched/", flat: true}
"""
INFO_TEMPLATE = (
    "build={{ packer_build_name }} type={{ packer_builder_type }} groups={{ group_names | sort | join(',') }}"
    "{% if db_password is defined %} password={{ db_password }}{% endif %}\n"
)


def write_playbook(root: Path) -> None:
    (root / "files").mkdir(parents=True, exist_ok=True)
    (root / "templates").mkdir(exist_ok=True)
    (root / "playbook.yml").write_text(PLAYBOOK)
    (root / "files" / "hello.txt").write_text("hello from ansible\n")
    (root / "templates" / "info.j2").write_text(INFO_TEMPLATE)


def recording_command(directory: Path, log: Path) -> Path:
    real = shutil.which("ansible-playbook")
    assert real is not None
    wrapper = directory / "record-ansible-playbook"
    script = f"""#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
if args != ["--version"]:
    inventory = open(args[args.index("-i") + 1]).read()
    env = {{k: v for k, v in os.environ.items() if k.startswith("ANSIBLE_")}}
    with open({str(log)!r}, "a") as out:
        out.write(json.dumps({{"argv": args, "env": env, "inventory": inventory}}) + "\\n")
os.execv({real!r}, [{real!r}, *args])
"""
    wrapper.write_text(script)
    wrapper.chmod(0o755)
    return wrapper


_TEMP_NAMES = [
    (re.compile(r"ansible-key\w+"), "ansible-keyN"),
    (re.compile(r"packer-provisioner-ansible\w+"), "packer-provisioner-ansibleN"),
    (re.compile(r"ansible_port=\d+"), "ansible_port=PORT"),
    (re.compile(r"ansible_user=\w+"), "ansible_user=USER"),
]


def read_invocations(log: Path) -> list[dict[str, object]]:
    """Each recorded run, with temp paths, the proxy's port and the local user normalised."""
    runs = []
    for line in log.read_text().splitlines():
        record = json.loads(line)
        text = json.dumps(record)
        for pattern, replacement in _TEMP_NAMES:
            text = pattern.sub(replacement, text)
        runs.append(json.loads(text))
    return runs
