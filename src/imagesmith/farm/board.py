"""imagesmith's own state in Redis, shared by the client and the workers (Celery only delivers).

Keys, all under ``imagesmith:`` and kept for a day:

* ``bundle:<sha256>``: a template directory bundle (:mod:`imagesmith.farm.bundle`);
* ``lease:<build id>``: the worker running the build; it expires unless renewed, so at most one
  worker runs a build at a time and a dead worker's build is seen as lost;
* ``started:<build id>``: which worker started the build and its lease length (JSON);
* ``log:<build id>``: a stream of the build's output events, in order;
* ``result:<build id>``: the outcome (JSON); a build with a result never runs again;
* ``cancel:<build id>``: the persistent cancel flag the client sets on Ctrl-C.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

import redis

from imagesmith.errors import ImagesmithError

PREFIX = "imagesmith:"
KEEP = 86_400
RedisError = redis.exceptions.RedisError
_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


def redis_url(executor: str) -> str:
    """``celery+redis://h:p/n`` (or a plain ``redis://``/``rediss://`` URL) → the Redis URL."""
    url = executor.removeprefix("celery+")
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ImagesmithError(
            f"unsupported executor {mask_url(executor)!r}",
            hint="use -executor=celery+redis://HOST:PORT/DB (or celery+rediss:// for TLS)",
        )
    return url


def mask_url(url: str) -> str:
    """The URL with any password replaced by ``<sensitive>``."""
    scheme, sep, rest = url.partition("://")
    auth, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in auth:
        return url
    return f"{scheme}://{auth.partition(':')[0]}:<sensitive>@{host}"


class Board:
    """Typed access to the keys above. Every method may raise :data:`RedisError` (the broker is down)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.redis = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)

    def close(self) -> None:
        self.redis.close()

    def put_bundle(self, digest: str, data: bytes) -> None:
        if not self.redis.set(f"{PREFIX}bundle:{digest}", data, nx=True, ex=KEEP):
            self.redis.expire(f"{PREFIX}bundle:{digest}", KEEP)

    def get_bundle(self, digest: str) -> bytes | None:
        return cast(bytes | None, self.redis.get(f"{PREFIX}bundle:{digest}"))

    def acquire_lease(self, build_id: str, worker: str, ttl: float) -> bool:
        return bool(self.redis.set(f"{PREFIX}lease:{build_id}", worker, nx=True, px=int(ttl * 1000)))

    def renew_lease(self, build_id: str, worker: str, ttl: float) -> bool:
        """Extend (or, after a broker restart lost it, take back) the lease; False if another holds it."""
        return bool(self.redis.eval(_RENEW, 1, f"{PREFIX}lease:{build_id}", worker, str(int(ttl * 1000))))

    def release_lease(self, build_id: str, worker: str) -> None:
        self.redis.eval(_RELEASE, 1, f"{PREFIX}lease:{build_id}", worker)

    def lease_holder(self, build_id: str) -> str | None:
        value = self.redis.get(f"{PREFIX}lease:{build_id}")
        return None if value is None else cast(bytes, value).decode()

    def mark_started(self, build_id: str, info: Mapping[str, Any]) -> None:
        self.redis.set(f"{PREFIX}started:{build_id}", json.dumps(info), ex=KEEP)

    def started(self, build_id: str) -> dict[str, Any] | None:
        return self._json(f"{PREFIX}started:{build_id}")

    def publish(self, build_id: str, events: Sequence[Mapping[str, Any]]) -> None:
        key = f"{PREFIX}log:{build_id}"
        with self.redis.pipeline() as pipe:
            for event in events:
                pipe.xadd(key, {"e": json.dumps(event)}, maxlen=100_000, approximate=True)
            pipe.expire(key, KEEP)
            pipe.execute()

    def read_logs(self, positions: Mapping[str, str], block_ms: int) -> list[tuple[str, dict[str, Any]]]:
        """New events of the builds in ``positions`` (build id → last stream id seen, updated in place)."""
        if not positions:
            return []
        streams = {f"{PREFIX}log:{build_id}": last for build_id, last in positions.items()}
        answer = self.redis.xread(streams, block=block_ms)  # type: ignore[arg-type]
        events: list[tuple[str, dict[str, Any]]] = []
        for key, entries in cast(list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]], answer or []):
            build_id = key.decode().removeprefix(f"{PREFIX}log:")
            for entry_id, fields in entries:
                cast(dict[str, str], positions)[build_id] = entry_id.decode()
                events.append((build_id, json.loads(fields[b"e"])))
        return events

    def set_result(self, build_id: str, result: Mapping[str, Any]) -> None:
        self.redis.set(f"{PREFIX}result:{build_id}", json.dumps(result), ex=KEEP)

    def result(self, build_id: str) -> dict[str, Any] | None:
        return self._json(f"{PREFIX}result:{build_id}")

    def cancel(self, build_id: str) -> None:
        self.redis.set(f"{PREFIX}cancel:{build_id}", "1", ex=KEEP)

    def cancelled(self, build_id: str) -> bool:
        return bool(self.redis.exists(f"{PREFIX}cancel:{build_id}"))

    def _json(self, key: str) -> dict[str, Any] | None:
        value = self.redis.get(key)
        return None if value is None else cast(dict[str, Any], json.loads(cast(bytes, value)))
