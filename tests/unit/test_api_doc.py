"""docs/api.md's example runs as written, in a fresh interpreter, and prints what it promises."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import ROOT


def test_the_example_in_docs_api_runs() -> None:
    text = (ROOT / "docs" / "api.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)
    assert len(blocks) == 1, "docs/api.md should have exactly one python example"
    done = subprocess.run([sys.executable, "-c", blocks[0]], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "builders: [('file', 'file')]" in out
    assert re.search(r"\['[^']*/vanilla\.txt'\] \['    file \(shell-local\): built vanilla with <sensitive>'\]", out)
    assert re.search(
        r"\['[^']*/chocolate\.txt'\] \['    file \(shell-local\): built chocolate with <sensitive>'\]", out
    )
    assert "failed: {'file': " in out and "Post-processor failed: Script exited with non-zero exit status: 1." in out
    assert "hunter2" not in out + done.stderr
