"""Run many cases through imagesmith a few at a time, in small batches computed on demand.

A compat test module has hundreds of cases, each a separate imagesmith process. Running all of
them in the first test made that one test's time grow with the machine's load: on a host at load
average 20-50 it passed pytest's per-test timeout, failed, and (since a raised exception is not
cached) the next test started the whole set again. Here the first test of a batch runs only its
batch (``size`` cases, ``workers`` at a time), so no single test waits for more than one batch,
and a batch's results, errors included, are kept.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

C = TypeVar("C")
R = TypeVar("R")


class Batched(Generic[C, R]):
    """``results[key]``: the answer of the case with that key, computing its batch if needed."""

    def __init__(
        self,
        cases: Sequence[C],
        key: Callable[[C], Hashable],
        run: Callable[[C], R],
        *,
        size: int = 16,
        workers: int = 4,
    ) -> None:
        self._cases = list(cases)
        self._key, self._run, self._size, self._workers = key, run, size, workers
        self._index = {key(case): n for n, case in enumerate(self._cases)}
        self._done: dict[Hashable, R | BaseException] = {}
        self._lock = threading.Lock()

    def _safe(self, case: C) -> R | BaseException:
        try:
            return self._run(case)
        except Exception as exc:  # kept as this case's answer; the test that reads it re-raises it
            return exc

    def __getitem__(self, key: Hashable) -> R:
        with self._lock:
            if key not in self._done:
                start = self._index[key] // self._size * self._size
                batch = self._cases[start : start + self._size]
                with ThreadPoolExecutor(self._workers) as pool:
                    for case, answer in zip(batch, pool.map(self._safe, batch), strict=True):
                        self._done[self._key(case)] = answer
            answer = self._done[key]
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def all(self) -> dict[Hashable, R]:
        return {self._key(case): self[self._key(case)] for case in self._cases}
