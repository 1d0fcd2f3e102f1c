"""The VBoxManage stand-in's injected faults, for tests of imagesmith's error and Ctrl-C handling.

- ``VBOX_STANDIN_FAIL="verb[:times[:code]]"``: that verb fails (``times`` calls, default every
  call) with the given VirtualBox error code (default VBOX_E_IPRT_ERROR).
- ``VBOX_STANDIN_DELAY="word:seconds"``: the first call with ``word`` among its arguments (a verb
  such as ``export``, or ``poweroff``) does its work, then creates ``$VBOX_STANDIN_HOME/delayed-word``
  and sleeps, as a slow export or start would: a test waits for that file, then presses Ctrl-C.
"""

from __future__ import annotations

import os
import time

from vboxstate import HOME, VBoxError


def injected_failure(verb: str) -> VBoxError | None:
    spec = os.environ.get("VBOX_STANDIN_FAIL", "")
    if not spec or spec.split(":")[0] != verb:
        return None
    parts = spec.split(":")
    counter = HOME / f"fail-count-{verb}"
    count = int(counter.read_text()) if counter.exists() else 0
    if len(parts) > 1 and parts[1] and count >= int(parts[1]):
        return None
    counter.write_text(str(count + 1))
    code = parts[2] if len(parts) > 2 else "VBOX_E_IPRT_ERROR"
    return VBoxError(f"injected failure of '{verb}' (stand-in)", f"{code} (0x80bb0005)")


def delay_once(argv: list[str]) -> None:
    """Sleep if ``argv`` is the first call that VBOX_STANDIN_DELAY names."""
    word, _, seconds = os.environ.get("VBOX_STANDIN_DELAY", "").partition(":")
    if not word or word not in argv:
        return
    marker = HOME / f"delayed-{word}"
    try:
        marker.touch(exist_ok=False)
    except FileExistsError:
        return
    time.sleep(float(seconds or "60"))
