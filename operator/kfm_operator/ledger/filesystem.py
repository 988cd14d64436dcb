"""The ledger on a local filesystem (the embedded default): durable create-only files and an fsync'd checkpoint.

Used by `Ledger` through the `LedgerStorage` protocol. Durability: each object is written to `.tmp/`, fsync'd, then
hard-linked into place (link fails if the path exists: an atomic create-only), and every directory that gained a
name is fsync'd; the checkpoint is replaced by write-temp + fsync + rename + fsync of the directory. A crash
therefore leaves whole files or none, plus stray temp files that the next writer removes. Key records live in one
append-only file `index/keys.log` (one `<sha256(key)> <record>` line each, fsync'd per batch) rather than one file
per key, which keeps batched appends fast; a torn last line (a crash mid-write) is ignored and cut off by the next
writer. Writers take an exclusive flock on `.lock` for each append, so processes on one machine take turns.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from kfm_operator.ledger.errors import LedgerCorrupt
from kfm_operator.ledger.storage import CHECKPOINT, KEYS_PREFIX

__all__ = ["FileStorage"]

KEYS_LOG = "index/keys.log"
_SAFE_PATH = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileStorage:
    """A ledger directory; created (empty) if absent."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._tmp = root / ".tmp"
        self._locked = False
        self._keys: dict[str, bytes] = {}
        self._keys_offset = 0
        self._counter = 0

    @property
    def location(self) -> str:
        return str(self.root)

    def _file(self, path: str) -> Path:
        if not _SAFE_PATH.match(path) or ".." in path.split("/") or path.startswith("."):
            raise ValueError(f"unsafe ledger path {path!r}")
        return self.root / path

    # -- key records ---------------------------------------------------------------------------------------------

    def _refresh_keys(self) -> None:
        """Read key records appended since the last look; a torn last line is left for later (or for repair)."""
        try:
            with (self.root / KEYS_LOG).open("rb") as handle:
                handle.seek(self._keys_offset)
                data = handle.read()
        except FileNotFoundError:
            return
        complete = data[:data.rfind(b"\n") + 1]
        for number, line in enumerate(complete.splitlines(), start=1):
            key_hash, _, record = line.partition(b" ")
            if not re.fullmatch(rb"[0-9a-f]{64}", key_hash) or not record.startswith(b"{"):
                raise LedgerCorrupt(f"{KEYS_LOG}: malformed line at byte {self._keys_offset} (+{number})",
                                    path=KEYS_LOG)
            known = self._keys.setdefault(key_hash.decode(), record)
            if known != record:
                raise LedgerCorrupt(f"{KEYS_LOG}: two different records for key hash {key_hash.decode()}",
                                    path=KEYS_LOG)
        self._keys_offset += len(complete)

    def _append_keys(self, records: Mapping[str, bytes]) -> set[str]:
        self._refresh_keys()
        existed = {path for path in records if path[len(KEYS_PREFIX):] in self._keys}
        lines = b"".join(f"{path[len(KEYS_PREFIX):]} ".encode() + data + b"\n"
                         for path, data in records.items() if path not in existed)
        if lines:
            (self.root / "index").mkdir(exist_ok=True)
            fd = os.open(self.root / KEYS_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, lines)
                os.fsync(fd)
            finally:
                os.close(fd)
            _fsync_dir(self.root / "index")
            self._refresh_keys()
        return existed

    def _repair_keys_tail(self) -> None:
        path = self.root / KEYS_LOG
        with contextlib.suppress(FileNotFoundError), path.open("r+b") as handle:
            end = handle.seek(0, os.SEEK_END)
            if end == 0 or (handle.seek(end - 1), handle.read(1))[1] == b"\n":
                return  # the usual case: checked without reading the whole file
            handle.seek(0)
            data = handle.read()
            # a crash mid-append: the cut records are rewritten when their batch is completed
            handle.truncate(data.rfind(b"\n") + 1)
            os.fsync(handle.fileno())

    # -- the protocol --------------------------------------------------------------------------------------------

    def read(self, path: str) -> bytes | None:
        if path.startswith(KEYS_PREFIX):
            key_hash = path[len(KEYS_PREFIX):]
            if key_hash not in self._keys:
                self._refresh_keys()
            return self._keys.get(key_hash)
        try:
            return self._file(path).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def create_many(self, objects: Mapping[str, bytes]) -> set[str]:
        existed = self._append_keys({p: d for p, d in objects.items() if p.startswith(KEYS_PREFIX)})
        self._tmp.mkdir(exist_ok=True)
        touched: set[Path] = set()
        for path, data in objects.items():
            if path.startswith(KEYS_PREFIX):
                continue
            target = self._file(path)
            for parent in reversed(target.relative_to(self.root).parents):
                directory = self.root / parent
                if not directory.is_dir():
                    directory.mkdir()
                    touched.add(directory.parent)
            self._counter += 1
            temp = self._tmp / f"{os.getpid()}-{self._counter}"
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(temp, target)
                touched.add(target.parent)
            except FileExistsError:
                existed.add(path)
            finally:
                temp.unlink()
        for directory in sorted(touched, key=lambda d: len(d.parts), reverse=True):
            _fsync_dir(directory)
        return existed

    def read_checkpoint(self) -> tuple[bytes, str] | None:
        data = self.read(CHECKPOINT)
        return None if data is None else (data, hashlib.sha256(data).hexdigest())

    def swap_checkpoint(self, data: bytes, expected: str | None) -> bool:
        with self.writer_lock():
            current = self.read_checkpoint()
            if (current[1] if current else None) != expected:
                return False
            self._tmp.mkdir(exist_ok=True)
            temp = self._tmp / f"checkpoint-{os.getpid()}"
            with temp.open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            temp.replace(self.root / CHECKPOINT)
            _fsync_dir(self.root)
            return True

    def list(self, prefix: str) -> Iterator[str]:
        if prefix.startswith(KEYS_PREFIX) or KEYS_PREFIX.startswith(prefix):
            self._refresh_keys()
            yield from (KEYS_PREFIX + key_hash for key_hash in list(self._keys))
        base = self.root / prefix.rstrip("/") if prefix else self.root
        for directory, subdirs, files in os.walk(base):
            subdirs[:] = [d for d in subdirs if not d.startswith(".")]
            for name in files:
                relative = (Path(directory) / name).relative_to(self.root).as_posix()
                if relative.startswith(prefix) and relative != KEYS_LOG and not name.startswith("."):
                    yield relative

    @contextlib.contextmanager
    def writer_lock(self) -> Iterator[None]:
        """An exclusive flock on `.lock` (re-entrant within this object); clears a crashed writer's leftovers."""
        if self._locked:
            yield
            return
        with (self.root / ".lock").open("a+b") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            self._locked = True
            try:
                if self._tmp.is_dir():
                    for stray in self._tmp.iterdir():
                        stray.unlink()
                self._repair_keys_tail()
                yield
            finally:
                self._locked = False
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
