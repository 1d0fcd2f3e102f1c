"""The debug log: IMAGESMITH_LOG (or Packer's PACKER_LOG) turns it on, *_LOG_PATH sends it to a file.

Every line goes through the secret filter. Without a log setting nothing is written, and the
calls cost one attribute check.

A traceback (a bug: an exception no code turned into a message) never goes to the terminal:
:func:`save_traceback` appends it to the log file when there is one, else writes it to a file of
its own under the user's cache directory, and returns where it went.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
import traceback

from imagesmith.secrets import scrub

logger = logging.getLogger("imagesmith")


class _ScrubbingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def _enabled(value: str | None) -> bool:
    return bool(value) and value != "0"


def configure_log(environ: dict[str, str] | None = None) -> None:
    """Set up the debug log from the environment. Safe to call more than once."""
    env = os.environ if environ is None else environ
    on = _enabled(env.get("IMAGESMITH_LOG")) or _enabled(env.get("PACKER_LOG"))
    path = env.get("IMAGESMITH_LOG_PATH") or env.get("PACKER_LOG_PATH")
    for old in list(logger.handlers):
        logger.removeHandler(old)
        old.close()
    if not on:
        logger.setLevel(logging.CRITICAL + 1)
        logger.propagate = False
        return
    handler: logging.Handler = logging.FileHandler(path) if path else logging.StreamHandler(sys.stderr)
    handler.setFormatter(_ScrubbingFormatter("%(asctime)s [%(levelname)s] %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False


def _log_file() -> str | None:
    for handler in logger.handlers:
        if isinstance(handler, logging.FileHandler):
            return handler.baseFilename
    return None


def _traceback_dir() -> str:
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "imagesmith", "tracebacks")


def save_traceback(exc: BaseException, context: str) -> str:
    """Write ``exc``'s traceback (secrets masked) where a developer can find it; return that path.

    The debug log file if one is configured, else ``~/.cache/imagesmith/tracebacks/<time>-<pid>.txt``
    (the system temp dir if the cache is not writable).
    """
    text = scrub("".join(traceback.format_exception(exc)))
    log_path = _log_file()
    if log_path is not None:
        logger.error("internal error in %s:\n%s", context, text.rstrip())
        return log_path
    name = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.txt"
    for directory in (_traceback_dir(), tempfile.gettempdir()):
        path = os.path.join(directory, f"imagesmith-traceback-{name}")
        try:
            os.makedirs(directory, 0o700, exist_ok=True)
            with open(path, "a", encoding="utf-8") as out:
                out.write(f"internal error in {context}\n{text}\n")
        except OSError:
            continue
        logger.error("internal error in %s; traceback written to %s", context, path)
        return path
    return "nowhere (no writable cache or temp directory)"


def log_unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    """``sys.unraisablehook``: an exception Python could not raise (in ``__del__``, at exit) goes to the log."""
    exc = unraisable.exc_value
    where = unraisable.err_msg or "Exception ignored in"
    logger.debug("%s %r: %s", where, unraisable.object, exc, exc_info=exc)


def log_loop_exception(loop: object, context: dict[str, object]) -> None:
    """An asyncio loop's exception handler: a callback's or forgotten task's error goes to the log.

    What fails a build is reported by the build's boundary; these are leftovers (a background
    reader that died with its process), which Python would otherwise print with a traceback.
    """
    exc = context.get("exception")
    logger.debug("asyncio: %s", context.get("message"), exc_info=exc if isinstance(exc, BaseException) else None)
