"""The command line: ``imagesmith <verb> [flags] [args]`` with Packer 1.6.6's verbs and flags.

This is the one boundary where errors become messages and exit codes. Flags follow Go's
``flag`` package as Packer uses it: ``-name value``, ``-name=value``, ``--name``, booleans as
``-force`` or ``-force=false``, and ``-machine-readable`` accepted anywhere on the line.
Each verb lives in :mod:`imagesmith.commands` and is imported only when used.

No traceback reaches the terminal: an exception that is not an :class:`ImagesmithError` is a bug,
reported as ``internal error`` with the path its traceback was written to (``IMAGESMITH_TRACEBACK=1``
prints it too). Ctrl-C outside a build prints ``Interrupted.``. Run as the ``imagesmith`` command
(``main()`` without arguments), it waits for every process it started before it returns.
"""

from __future__ import annotations

import contextlib
import sys
from types import TracebackType


def _excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    """Last resort for what escapes :func:`main` (Ctrl-C while Python imports the rest, a bug)."""
    if isinstance(exc, KeyboardInterrupt):
        print("Interrupted.", file=sys.stderr)
        return
    from imagesmith.errors import describe_failure

    print(f"Error: {describe_failure(exc.with_traceback(tb), 'imagesmith')}", file=sys.stderr)


sys.excepthook = _excepthook


def _install_hooks() -> None:
    """Unraisable exceptions and threads' uncaught ones go to the debug log, not the terminal."""
    import threading

    from imagesmith.log import log_unraisable, logger

    sys.unraisablehook = log_unraisable

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        logger.debug("uncaught in thread %s", args.thread, exc_info=args.exc_value)

    threading.excepthook = thread_hook


import argparse  # noqa: E402 - the hook above covers a Ctrl-C during these imports
import importlib  # noqa: E402
import os  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from typing import NoReturn  # noqa: E402

from imagesmith.errors import (  # noqa: E402
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    ImagesmithError,
    UsageError,
    describe_failure,
)

VERBS: dict[str, str] = {
    "build": "build image(s) from template",
    "cache": "list, prune or clear the provisioner layer cache",
    "console": "creates a console for testing variable interpolation",
    "fix": "fixes templates from old versions of packer",
    "fmt": "Rewrites HCL2 config files to canonical format",
    "hcl2_upgrade": "transform a JSON template into an HCL2 configuration",
    "init": "Install missing plugins or upgrade plugins",
    "inspect": "see components of a template",
    "validate": "check that a template is valid",
    "version": "Prints the Packer-compatible and imagesmith versions",
    "worker": "serves farm builds from a Redis broker (imagesmith[farm])",
}


class GoFlagParser(argparse.ArgumentParser):
    """argparse with Go-style single-dash long flags and usage errors as exceptions."""

    def __init__(self, prog: str, description: str = "") -> None:
        super().__init__(prog=prog, description=description, prefix_chars="-", allow_abbrev=False, add_help=False)
        self.add_argument("-h", "-help", "--help", action="help", help="show this help")
        self.bool_flags: set[str] = set()

    def flag(self, name: str, **kwargs: object) -> None:
        """Add ``-name`` (and ``--name``); booleans take ``-name`` or ``-name=true|false``."""
        dest = name.replace("-", "_")
        if kwargs.get("action") == "store_true":
            self.bool_flags.add(name)
            if kwargs.get("default") is True:  # a default-true flag is turned off with -name=false
                self.add_argument(f"--no-{name}", dest=dest, action="store_false", help=argparse.SUPPRESS)
        self.add_argument(f"-{name}", f"--{name}", dest=dest, **kwargs)  # type: ignore[arg-type]

    def normalize(self, argv: Sequence[str]) -> list[str]:
        out: list[str] = []
        for arg in argv:
            name, eq, value = arg.lstrip("-").partition("=")
            if arg.startswith("-") and name in self.bool_flags and eq:
                if value.lower() in ("1", "t", "true"):
                    out.append(f"-{name}")
                elif value.lower() not in ("0", "f", "false"):
                    self.error(f'invalid boolean value "{value}" for -{name}')
                elif f"--no-{name}" in self._option_string_actions:
                    out.append(f"--no-{name}")
                continue
            out.append(arg)
        return out

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, hint=f"run '{self.prog} -h' for usage")


def _split_machine_readable(argv: list[str]) -> tuple[list[str], bool]:
    rest = [a for a in argv if a not in ("-machine-readable", "--machine-readable")]
    return rest, len(rest) != len(argv)


def _usage() -> str:
    lines = ["Usage: imagesmith [--version] [--help] <command> [<args>]", "", "Available commands are:"]
    lines += [f"    {verb:<12} {text}" for verb, text in VERBS.items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line (``sys.argv`` when ``argv`` is None: the command); return the exit code."""
    from imagesmith.run import become_subreaper, reap_sessions

    if argv is None:
        become_subreaper()
        _install_hooks()
    try:
        code = _main(list(sys.argv[1:] if argv is None else argv))
        if argv is None:
            sys.stdout.flush()  # here, where a closed pipe can still be handled
        return code
    except BrokenPipeError:  # `imagesmith console t.json | head -1`: the reader left, as with any CLI
        _silence_stdout()
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if argv is None:
            reap_sessions()
            _skip_exit_collections()


def _skip_exit_collections() -> None:
    """Spare the interpreter's garbage collections at exit: they walk every object left and took
    0.2-0.9 s of a docker build's wall time (bench/RESULTS.md). Frozen objects are still freed at
    exit; only reference cycles among them are no longer collected: their memory goes with the process."""
    import gc

    gc.freeze()


def _silence_stdout() -> None:
    """Point stdout at /dev/null so Python's own flush at exit does not report the broken pipe."""
    import os

    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _main(args: list[str]) -> int:
    args, machine = _split_machine_readable(args)
    from imagesmith.log import configure_log

    configure_log()
    if not args or args[0] in ("-h", "-help", "--help", "help"):
        print(_usage(), file=sys.stderr)
        return _bare_exit_code(args)
    if args[0] in ("-v", "-version", "--version"):
        args[0] = "version"
    verb, rest = args[0], args[1:]
    if verb not in VERBS:
        print(f"imagesmith: unknown command '{verb}'\n\n{_usage()}", file=sys.stderr)
        return 127
    try:
        module = importlib.import_module(f"imagesmith.commands.{verb}")
        parser = GoFlagParser(prog=f"imagesmith {verb}", description=VERBS[verb])
        module.add_arguments(parser)
        options = parser.parse_args(parser.normalize(rest))
        options.machine_readable = machine
        code: int = module.run(options)
        return code
    except UsageError as exc:
        _report(exc)
        return EXIT_USAGE
    except ImagesmithError as exc:
        _report(exc)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SystemExit as exc:  # argparse -h
        return int(exc.code or 0)
    except BrokenPipeError:
        raise  # the reader of our output went away: main() ends quietly
    except Exception as exc:  # the command's boundary: a bug becomes a message too
        print(f"Error: {describe_failure(exc, f'imagesmith {verb}')}", file=sys.stderr)
        _print_traceback()
        return EXIT_FAILED


def _bare_exit_code(args: list[str]) -> int:  # Packer: bare "packer" exits 127, "-h" 0
    return 0 if args else 127


def _report(exc: ImagesmithError) -> None:
    from imagesmith.secrets import scrub

    print(f"Error: {scrub(str(exc))}", file=sys.stderr)
    if exc.hint:
        print(f"Hint: {scrub(exc.hint)}", file=sys.stderr)
    _print_traceback()


def _print_traceback() -> None:
    if os.environ.get("IMAGESMITH_TRACEBACK"):
        import traceback

        traceback.print_exc()
