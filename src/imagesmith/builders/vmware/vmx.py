"""Reading and writing ``.vmx`` files as Packer 1.6.6 does.

A ``.vmx`` is read into a dict whose keys are lower-cased (the value loses one pair of
surrounding quotes); it is written back with the keys sorted, every value quoted except the
``.virtualSSD`` ones, and ``virtualSSD`` spelled in its original case. Round-tripping through
these two functions is how every step edits the file, so the written form is always this one.
"""

from __future__ import annotations

import re
from pathlib import Path

from imagesmith.errors import file_errors

_LINE = re.compile(r'^(.+?)\s*=\s*"?(.*?)"?\s*$')
_UNQUOTED = (".virtualssd",)
_CASED = (".virtualSSD",)

VmxData = dict[str, str]


def parse_vmx(text: str) -> VmxData:
    """Keys (lower-cased) and values of ``text``; lines without ``=`` are skipped; a later key wins."""
    data: VmxData = {}
    for line in text.split("\n"):
        match = _LINE.match(line)
        if match is not None:
            data[match.group(1).lower()] = match.group(2)
    return data


def encode_vmx(data: VmxData) -> str:
    """``data`` as ``.vmx`` text: sorted keys, one ``key = "value"`` line each."""
    lines = []
    for key in sorted(data):
        quoted = not any(fragment in key for fragment in _UNQUOTED)
        shown = key
        for fragment in _CASED:
            shown = shown.replace(fragment.lower(), fragment, 1)
        lines.append(f'{shown} = "{data[key]}"\n' if quoted else f"{shown} = {data[key]}\n")
    return "".join(lines)


def read_vmx(path: str | Path) -> VmxData:
    with file_errors("read the VMX file", path):
        return parse_vmx(Path(path).read_text(encoding="utf-8", errors="surrogateescape"))


def write_vmx(path: str | Path, data: VmxData) -> None:
    with file_errors("write the VMX file", path):
        Path(path).write_text(encode_vmx(data), encoding="utf-8", errors="surrogateescape")
