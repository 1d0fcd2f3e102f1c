"""Masking of sensitive values everywhere imagesmith writes: console, machine-readable, log.

Packer 1.6.6 scrubs the console but not machine-readable output (``packer/ui.go``), and misses
escaped forms of a secret (#12918). Here every writer goes through :func:`scrub`, and each secret
is registered together with the forms it commonly takes on the way out (JSON-escaped,
shell-quoted, machine-readable comma-escaped, each line of a multi-line value).

Each run (``imagesmith.build``/``validate``/``inspect``, so each CLI command too) has its own
filter, held in a :class:`~contextvars.ContextVar` set by :func:`run_filter`: the run's asyncio
tasks and its ``asyncio.to_thread`` workers inherit it, and two runs in one process, in two
threads or two tasks, never mask (or learn) each other's secrets. Outside any run, a
process-wide fallback filter is used (plain library use, tests).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

MASK = "<sensitive>"
_MIN_LINE = 4  # lines of a multi-line secret shorter than this are too common to mask alone


class SecretFilter:
    """A set of strings that must never be written out."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._forms: list[str] = []

    def add(self, *values: str) -> None:
        """Register secret values (empty strings are ignored)."""
        with self._lock:
            for value in values:
                for form in _forms_of(value):
                    if form and form not in self._forms:
                        self._forms.append(form)
            # Longest first so a secret that contains another is masked whole.
            self._forms.sort(key=len, reverse=True)

    def clear(self) -> None:
        with self._lock:
            self._forms.clear()

    def scrub(self, text: str) -> str:
        """Return ``text`` with every registered secret replaced by ``<sensitive>``."""
        forms = self._forms
        if not forms or not text:
            return text
        for form in forms:
            if form in text:
                text = text.replace(form, MASK)
        return text

    def __bool__(self) -> bool:
        return bool(self._forms)


def _forms_of(value: str) -> list[str]:
    if not value:
        return []
    forms = [
        value,
        json.dumps(value)[1:-1],
        value.replace("'", "'\"'\"'"),
        value.replace(",", "%!(PACKER_COMMA)").replace("\n", "\\n").replace("\r", "\\r"),
    ]
    if "\n" in value:
        forms += [line for line in value.splitlines() if len(line.strip()) >= _MIN_LINE]
    return forms


_outside_runs = SecretFilter()
_current: ContextVar[SecretFilter] = ContextVar("imagesmith_secrets")


def current_filter() -> SecretFilter:
    """The filter of the run this code belongs to (the process-wide fallback outside any run)."""
    return _current.get(_outside_runs)


@contextmanager
def run_filter() -> Iterator[SecretFilter]:
    """Give the code inside (and the tasks and ``to_thread`` workers it starts) a fresh filter."""
    token = _current.set(SecretFilter())
    try:
        yield _current.get()
    finally:
        _current.reset(token)


class _CurrentFilter:
    """``secrets.add(...)`` / ``secrets.scrub(...)`` on the current run's filter."""

    def add(self, *values: str) -> None:
        current_filter().add(*values)

    def clear(self) -> None:
        current_filter().clear()

    def scrub(self, text: str) -> str:
        return current_filter().scrub(text)

    def __bool__(self) -> bool:
        return bool(current_filter())


#: The current run's filter. Sensitive template variables are added when the template's
#: variables are rendered, credentials when a plugin reads them.
secrets = _CurrentFilter()


def scrub(text: str) -> str:
    """Mask every secret registered in the current run in ``text``."""
    return _current.get(_outside_runs).scrub(text)
