"""What the ansible provisioner runs: the version check, the connection (proxy or direct), galaxy, the playbook.

Every process goes through :func:`imagesmith.run.run`; a failure names the command (secrets masked)
and shows the tail of its stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import tempfile
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from imagesmith.core.plugin import Communicator
from imagesmith.errors import BuildError, ToolError
from imagesmith.run import run
from imagesmith.secrets import scrub
from imagesmith.ui import Ui

if TYPE_CHECKING:
    from imagesmith.provisioners.ansible import AnsibleConfig, AnsibleProvisioner

_STDERR_TAIL = 20
#: Packer's version pattern: the first "word N.N[.N]" of ``--version``'s output
_VERSION = re.compile(r"\w (\d+\.\d+[.\d+]*)")


async def version_of(command: str) -> int:
    """Packer's ``getVersion``: ``command --version``'s major version."""
    try:
        done = await run([command, "--version"], what=f"{command} --version")
    except ToolError as exc:
        why = f'exec: "{command}": executable file not found in $PATH' if exc.returncode is None else exc.message
        raise BuildError(f'Error running "{command} --version": {why}') from exc
    match = _VERSION.search(done.text)
    if match is None:
        raise BuildError(f"Could not find {command} version in output:\n{done.text}")
    return int(match.group(1).split(".")[0])


@contextlib.asynccontextmanager
async def connect(
    prov: AnsibleProvisioner, ui: Ui, comm: Communicator, data: Mapping[str, str]
) -> AsyncIterator[tuple[bool, int, str]]:
    """Yield ``(use_proxy, proxy port, private key file)``; afterwards the proxy and the key are gone."""
    from imagesmith.provisioners.ansible_proxy import ProxySettings, start_proxy

    c = prov.config
    use_proxy = c.use_proxy is not False
    if not use_proxy and not data.get("Host"):
        ui.error(
            "Warning: use_proxy is false, but instance does not have an IP address to give to Ansible. "
            "Falling back to use localhost proxy."
        )
        use_proxy = True
    if not use_proxy and data.get("ConnType") not in ("ssh", "winrm"):
        ui.error(
            "Warning: use_proxy is false, but communicator is neither ssh nor winrm, so without the proxy "
            "ansible will not function. Falling back to localhost proxy."
        )
        use_proxy = True
    if use_proxy:
        settings = ProxySettings(
            prov.user, c.local_port, c.ssh_host_key_file, c.ssh_authorized_key_file, c.sftp_command
        )
        proxy = await start_proxy(settings, comm, ui)
        try:
            yield True, proxy.port, proxy.key_file
        finally:
            await proxy.close()
        return
    if data.get("ConnType") == "winrm":
        ui.message("Not using Proxy adapter for Ansible run:\n\tUsing WinRM Password from Packer communicator...")
        yield False, 0, ""
        return
    ui.message("Not using Proxy adapter for Ansible run:\n\tUsing ssh keys from Packer communicator...")
    if not c.user:
        prov.user = data.get("User", "")
    key_file = data.get("SSHPrivateKeyFile", "")
    if key_file or data.get("SSHAgentAuth") == "true":
        yield False, 0, key_file
        return
    key_file = _write_key(data.get("SSHPrivateKey", ""))
    try:
        yield False, 0, key_file
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(key_file)


def _write_key(text: str) -> str:
    """The communicator's private key in a 0600 ``ansible-key*`` temp file (Packer's ``tmp.File``)."""
    fd, path = tempfile.mkstemp(prefix="ansible-key")
    with os.fdopen(fd, "w") as out:
        out.write(text)
    return path


async def run_galaxy(ui: Ui, c: AnsibleConfig) -> None:
    """``ansible-galaxy [collection] install -r F ...`` for ``galaxy_file``."""
    from imagesmith.provisioners.ansible import make_galaxy_args

    command = c.galaxy_command or "ansible-galaxy"
    try:
        requirements = await asyncio.to_thread(Path(c.galaxy_file).read_text, errors="replace")
    except OSError as exc:
        raise BuildError(f"Error executing Ansible: Error executing Ansible Galaxy: {exc}") from exc
    for args in make_galaxy_args(c, requirements):
        ui.message("Executing Ansible Galaxy")
        await _run_tool(ui, [command, *args], {}, [], "Error executing Ansible: Error executing Ansible Galaxy")


async def run_playbook(
    ui: Ui, command: str, args: Sequence[str], env: Mapping[str, str], secrets: Sequence[str]
) -> None:
    """``Executing Ansible: <command line>``, then the run; its output lines go to the UI as they come."""
    from imagesmith.provisioners.ansible import mask

    ui.say(f"Executing Ansible: {mask(' '.join([command, *args]), secrets)}")
    await _run_tool(ui, [command, *args], env, secrets, "Error executing Ansible")


async def _run_tool(ui: Ui, argv: list[str], env: Mapping[str, str], secrets: Sequence[str], prefix: str) -> None:
    from imagesmith.provisioners.ansible import mask

    def show(line: str) -> None:
        ui.message(mask(line.rstrip(), secrets))

    try:
        await run(argv, env=dict(env), on_stdout=show, on_stderr=show, what=os.path.basename(argv[0]))
    except ToolError as exc:
        shown = mask(scrub(" ".join(argv)), secrets)
        if exc.returncode is None:
            raise BuildError(f'{prefix}: exec: "{argv[0]}": {exc.stderr}\n  command: {shown}') from exc
        tail = exc.stderr.rstrip().splitlines()[-_STDERR_TAIL:]
        details = f"\n  command: {shown}" + "".join(f"\n  {mask(line, secrets)}" for line in tail)
        raise BuildError(f"{prefix}: Non-zero exit status: exit status {exc.returncode}{details}") from exc
