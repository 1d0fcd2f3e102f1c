"""The remote ansible provisioner for real through the SSH proxy into a Debian container, against Packer 1.6.6.

One template, built by imagesmith and by Packer 1.6.6 (which needs ``use_sftp`` and the ``+ssh-rsa``
``ANSIBLE_SSH_ARGS`` to run here): the same ansible-playbook argv and ``ANSIBLE_*`` environment, the
same inventory (temp paths, the proxy's port and the local user normalised), the same files in the
final image, the fetched file back on this machine. A second imagesmith build without the
workaround shows the proxy's Ed25519 keys suffice for Debian 12's OpenSSH.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .ansible_support import read_invocations, recording_command, write_playbook
from .cm_support import DEBIAN_IMAGE, build_with, ensure_image, listing, read_file, remove_images

pytestmark = [pytest.mark.integration, pytest.mark.compat]
WORKAROUND = "ANSIBLE_SSH_ARGS=-o HostKeyAlgorithms=+ssh-rsa -o PubkeyAcceptedAlgorithms=+ssh-rsa"


def write_template(root: Path, provisioner: dict[str, Any], name: str = "template.json") -> Path:
    template = {
        "builders": [{"type": "docker", "image": DEBIAN_IMAGE, "pull": False, "commit": True}],
        "provisioners": [{"type": "ansible", "playbook_file": "playbook.yml", **provisioner}],
    }
    path = root / name
    path.write_text(json.dumps(template, indent=2))
    return path


def test_ansible_through_the_proxy_vs_packer(tmp_path: Path, need_docker: None, need_packer: None) -> None:
    ensure_image()
    write_playbook(tmp_path)
    (tmp_path / "inventory").mkdir()
    log = tmp_path / "ansible-calls.log"
    provisioner = {
        "command": str(recording_command(tmp_path, log)),
        "groups": ["web", "db"],
        "empty_groups": ["spare"],
        "host_alias": "box",
        "use_sftp": True,
        "inventory_directory": "inventory",
        "extra_arguments": ["-e", "greeting=hi there"],
        "ansible_env_vars": [WORKAROUND],
    }
    template = write_template(tmp_path, provisioner)
    ours = build_with("imagesmith", template, tmp_path)
    try:
        assert ours.returncode == 0, ours.output
        assert read_file(ours.image, "/etc/imagesmith-ansible-info.txt") == "build=docker type=docker groups=db,web\n"
        assert read_file(ours.image, "/etc/imagesmith-ansible-copy.txt") == "hello from ansible\n"
        assert (tmp_path / "fetched" / "imagesmith-ansible-info.txt").exists()
        assert list((tmp_path / "inventory").iterdir()) == []  # removed (keep_inventory_file is false)
        [our_call] = read_invocations(log)
        log.unlink()
        theirs = build_with("packer", template, tmp_path)
        try:
            assert theirs.returncode == 0, theirs.output
            [their_call] = read_invocations(log)
            print(f"\nansible via proxy: imagesmith {ours.seconds:.1f} s, packer {theirs.seconds:.1f} s")
            assert our_call == their_call
            assert our_call["inventory"] == (
                "box ansible_host=127.0.0.1 ansible_user=USER ansible_port=PORT\n"
                "[web]\nbox ansible_host=127.0.0.1 ansible_user=USER ansible_port=PORT\n"
                "[db]\nbox ansible_host=127.0.0.1 ansible_user=USER ansible_port=PORT\n[spare]\n"
            )
            ours_files, theirs_files = listing(ours.image), listing(theirs.image)
            assert sorted(ours_files) == sorted(theirs_files)
            assert {p: (e, theirs_files[p]) for p, e in ours_files.items() if e != theirs_files[p]} == {}
        finally:
            remove_images(theirs.image)
    finally:
        remove_images(ours.image)
