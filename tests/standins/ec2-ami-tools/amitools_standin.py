"""What the ec2-ami-tools stand-ins share: option parsing as the real tools do it, and the call log.

Every call is appended as one JSON line ({"tool", "argv", "cwd"}) to $EC2_AMITOOLS_STANDIN_LOG, or,
when that is not set (an SSH session does not carry the build's environment), to
``.ec2-ami-tools-calls.jsonl`` in the bundle directory (``-d``).
"""

import json
import os
import sys


def fail(tool, message, code=1):
    print(f"[standin {tool}] ERROR: {message}", file=sys.stderr)
    sys.exit(code)


def parse(tool, argv, with_value, flags):
    """``-x VALUE`` / ``--long VALUE`` options into a dict (keyed by the long name); unknown ones fail."""
    out = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in flags:
            out[flags[arg]] = True
        elif arg in with_value:
            if i + 1 >= len(argv):
                fail(tool, f"option {arg} needs a value")
            out[with_value[arg]] = argv[i + 1]
            i += 1
        elif arg.startswith("-"):
            fail(tool, f"unrecognised option: {arg}")
        else:  # a bare word (e.g. what the shell made of an unquoted ``-e /tmp/*``): Ruby's
            out.setdefault("extra", []).append(arg)  # OptionParser leaves it, the tools ignore it
        i += 1
    return out


def record(tool, directory):
    path = os.environ.get("EC2_AMITOOLS_STANDIN_LOG") or os.path.join(directory, ".ec2-ami-tools-calls.jsonl")
    with open(path, "a", encoding="utf-8") as log:
        log.write(json.dumps({"tool": tool, "argv": sys.argv[1:], "cwd": os.getcwd()}) + "\n")
