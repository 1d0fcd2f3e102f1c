"""The debug log: IMAGESMITH_LOG (or Packer's PACKER_LOG) turns it on, *_LOG_PATH sends it to a file.

Every line goes through the secret filter. Without a log setting nothing is written, and the
calls cost one attribute check.
"""

from __future__ import annotations

import logging
import os
import sys

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
