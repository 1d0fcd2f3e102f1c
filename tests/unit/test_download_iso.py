"""ISO download: cache naming, checksums, resume, lock sharing, mismatch, local files (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from imagesmith.errors import BuildError
from imagesmith.steps.checksum import find_in_sums, parse_checksum
from imagesmith.steps.download import Downloader, cache_target
from imagesmith.ui import Ui

PAYLOAD = os.urandom(3 * 1024 * 1024 + 123)
SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


class RecordingUi(Ui):
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def _write(self, kind: str, message: str) -> None:
        self.lines.append((kind, message))

    def text(self) -> str:
        return "\n".join(m for _, m in self.lines)


class Server:
    """Serves PAYLOAD at /x.iso with Range support; can cut the first N transfers short."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str | None]] = []
        self.cut_after: list[int] = []  # bytes to send before dropping, per request
        self.delay = 0.0
        self.files: dict[str, bytes] = {"/x.iso": PAYLOAD}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                outer.requests.append((self.path, self.headers.get("Range")))
                body = outer.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                start = 0
                rng = self.headers.get("Range")
                if rng:
                    start = int(rng.removeprefix("bytes=").split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                data = body[start:]
                if outer.cut_after:
                    data = data[: outer.cut_after.pop(0)]
                if outer.delay:  # some data, a pause, the rest
                    self.wfile.write(data[:1_000_000])
                    self.wfile.flush()
                    time.sleep(outer.delay)
                    data = data[1_000_000:]
                self.wfile.write(data)
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.close()


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PACKER_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _fetch(urls: list[str], checksum: str, ui: Ui | None = None, **kw: str) -> Path:
    return asyncio.run(Downloader(ui or RecordingUi()).fetch(urls, checksum, **kw))


def test_checksum_forms() -> None:
    assert str(parse_checksum("SHA256:" + "A" * 64).checksum) == "sha256:" + "a" * 64
    for n, algo in ((32, "md5"), (40, "sha1"), (64, "sha256"), (128, "sha512")):
        assert parse_checksum("b" * n).checksum.algorithm == algo  # type: ignore[union-attr]
    assert parse_checksum("none").is_none
    assert parse_checksum("file:http://x/SUMS").sums_source == "http://x/SUMS"
    for bad, message in (
        ("md5:123", 'invalid checksum: encoding/hex: odd length hex string in "md5:123"'),
        ("sha256:zz", "invalid checksum: encoding/hex: invalid byte: U+007A 'z' in \"sha256:zz\""),
        ("crc32:abcd", 'unsupported checksum type: crc32 in "crc32:abcd"'),
        ("abcd", 'Unknown type for checksum abcd in "abcd"'),
        ("", "A checksum must be specified"),
    ):
        with pytest.raises(ValueError) as err:
            parse_checksum(bad)
        assert str(err.value) == message
    sums = f"# c\n{'1' * 64}  other.iso\n{SHA256} *x.iso\nSHA1 (y.iso) = {'2' * 40}\n"
    assert find_in_sums(sums, "x.iso").hexdigest == SHA256
    assert find_in_sums(sums, "y.iso").algorithm == "sha1"
    with pytest.raises(ValueError, match=r"no checksum for 'z\.iso'"):
        find_in_sums(sums, "z.iso")


def test_cache_name_is_packers(cache: Path) -> None:
    check = "sha256:" + SHA256
    assert cache_target("http://h/x.iso", check, "", "iso") == cache / (
        hashlib.sha1(check.encode()).hexdigest() + ".iso"
    )
    none = cache_target("http://h/x.iso", "none", "", "iso")
    assert none.name == hashlib.sha1(b"http://h/x.iso").hexdigest() + ".iso"
    assert cache_target("http://h/x.iso", check, "/t/dir", "iso") == Path("/t/dir/x.iso")
    assert cache_target("http://h/x.iso", check, "/t/a.img", "iso") == Path("/t/a.img")


@pytest.mark.parametrize("algo", ["md5", "sha1", "sha256", "sha512"])
def test_download_verifies_each_algorithm(server: Server, algo: str) -> None:
    digest = hashlib.new(algo, PAYLOAD).hexdigest()
    path = _fetch([server.url + "/x.iso"], f"{algo}:{digest}")
    assert path.read_bytes() == PAYLOAD
    assert not path.with_name(path.name + ".part").exists()


def test_resume_after_interrupted_transfer(server: Server) -> None:
    server.cut_after = [1_000_000, 500_000]
    ui = RecordingUi()
    path = _fetch([server.url + "/x.iso"], SHA256, ui)
    assert path.read_bytes() == PAYLOAD
    assert [r for _, r in server.requests] == [None, "bytes=1000000-", "bytes=1500000-"]
    assert "interrupted at 1000000 bytes" in ui.text()


def test_partial_file_from_earlier_run_is_resumed(server: Server, cache: Path) -> None:
    target = cache_target(server.url + "/x.iso", SHA256, "", "iso")
    target.parent.mkdir(parents=True)
    target.with_name(target.name + ".part").write_bytes(PAYLOAD[:2_000_000])
    assert _fetch([server.url + "/x.iso"], SHA256).read_bytes() == PAYLOAD
    assert server.requests == [("/x.iso", "bytes=2000000-")]


def test_cached_file_is_not_rehashed_or_redownloaded(server: Server) -> None:
    ui = RecordingUi()
    path = _fetch([server.url + "/x.iso"], SHA256, ui)
    ui2 = RecordingUi()
    assert _fetch([server.url + "/x.iso"], SHA256, ui2) == path
    assert len(server.requests) == 1
    assert "Verifying" not in ui2.text()
    os.utime(path, ns=(1, 1))  # touched: hashed again, still valid
    ui3 = RecordingUi()
    _fetch([server.url + "/x.iso"], SHA256, ui3)
    assert "Verifying sha256 checksum" in ui3.text() and len(server.requests) == 1


def test_mismatch_removes_file_and_says_so(server: Server) -> None:
    ui = RecordingUi()
    with pytest.raises(BuildError, match="checksums did not match") as err:
        _fetch([server.url + "/x.iso"], "sha256:" + "0" * 64, ui)
    assert "removed" in str(err.value)
    target = cache_target(server.url + "/x.iso", "sha256:" + "0" * 64, "", "iso")
    assert not target.exists() and not target.with_name(target.name + ".part").exists()


def test_urls_tried_in_order_and_sums_file(server: Server) -> None:
    server.files["/SHA256SUMS"] = f"{SHA256}  x.iso\n".encode()
    ui = RecordingUi()
    path = _fetch([server.url + "/missing.iso", server.url + "/x.iso"], f"file:{server.url}/SHA256SUMS", ui)
    assert path.read_bytes() == PAYLOAD
    assert "Trying " + server.url + "/missing.iso" in ui.text()
    assert "Download failed" in ui.text()


def test_none_warns_and_local_files_are_used_in_place(tmp_path: Path) -> None:
    iso = tmp_path / "local.iso"
    iso.write_bytes(PAYLOAD)
    ui = RecordingUi()
    assert _fetch([str(iso)], "none", ui) == iso
    assert ("error", "Warning: A checksum of 'none' was specified. Since ISO files are so big,\n"
            "a checksum is highly recommended.") in ui.lines  # fmt: skip
    assert _fetch(["file://" + str(iso)], SHA256) == iso
    with pytest.raises(BuildError, match="did not match"):
        _fetch([str(iso)], "md5:" + "0" * 32)
    assert iso.exists()  # a user's own file is never removed


def test_parallel_builds_share_one_download(server: Server) -> None:
    server.delay = 0.3

    async def main() -> list[Path]:
        d = Downloader(RecordingUi())
        return list(await asyncio.gather(*(d.fetch([server.url + "/x.iso"], SHA256) for _ in range(3))))

    paths = asyncio.run(main())
    assert len(set(paths)) == 1 and paths[0].read_bytes() == PAYLOAD
    assert len(server.requests) == 1


def test_cancel_removes_partial_download(server: Server, cache: Path) -> None:
    server.delay = 8.0

    async def main() -> None:
        task = asyncio.ensure_future(Downloader(RecordingUi()).fetch([server.url + "/x.iso"], SHA256))
        part = cache_target(server.url + "/x.iso", SHA256, "", "iso").with_suffix(".iso.part")
        for _ in range(100):
            await asyncio.sleep(0.02)
            if part.exists() and part.stat().st_size:
                break
        assert part.exists()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    t0 = time.monotonic()
    asyncio.run(main())
    assert time.monotonic() - t0 < 6  # the stalled read was aborted, not waited out (server pauses 8 s)
    leftovers = [p.name for p in cache.iterdir() if not p.name.endswith(".lock")]
    assert leftovers == []


def test_progress_bar_gets_total_and_every_byte(server: Server) -> None:
    from contextlib import contextmanager

    bars: list[tuple[str, int | None, list[int]]] = []

    class ProgressUi(RecordingUi):
        @contextmanager
        def progress(self, description: str, total: int | None) -> Iterator[Any]:
            advances: list[int] = []
            bars.append((description, total, advances))

            class Bar:
                def advance(self, amount: int) -> None:
                    advances.append(amount)

            yield Bar()

    server.cut_after = [1_500_000]
    _fetch([server.url + "/x.iso"], SHA256, ProgressUi())
    assert [b[1] for b in bars] == [len(PAYLOAD), len(PAYLOAD)]  # the resumed transfer knows the full size
    assert sum(sum(b[2]) for b in bars) == len(PAYLOAD) + 1_500_000  # the second bar starts at the offset
    assert bars[0][0] == f"Downloading {server.url}/x.iso"
