"""Writing output files atomically: the one implementation behind every ``-o/--output`` and
the generators (``ingest``, ``derive``).

A reader of the target sees the old content or the new, never half of it: the text goes to a
temporary file in the target's folder, which then replaces the target by a rename. The rules:

- the target's permission bits are kept; a new file gets the usual ``0666 & ~umask`` (a bare
  ``mkstemp`` would leave every output 0600);
- a target that is a symbolic link, a FIFO, a device, a socket or a directory is refused with a
  clear error (renaming over it would silently replace the link or the pipe with a plain file);
- the temporary file is removed on every failure path, including KeyboardInterrupt;
- every OS failure becomes one :class:`DataError` line naming the file;
- :func:`check_target` applies the same refusals up front, before a command computes its output.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from axilla_kg.errors import DataError

_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process umask (reading it means setting it; the lock keeps threads from racing)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _kind(mode: int) -> str | None:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return None


def _target_mode(path: Path) -> int:
    """Permission bits for the new content of ``path``; refuses targets that are not plain files."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return 0o666 & ~current_umask()
    except OSError as exc:
        raise DataError(f"{path}: cannot write ({exc.strerror})") from None
    kind = _kind(info.st_mode)
    if kind is not None:
        raise DataError(f"{path}: is {kind}; give the path of a regular file to write")
    return stat.S_IMODE(info.st_mode)


def check_target(path: Path | str) -> None:
    """Refuse, before any work, an output path :func:`write_atomically` would refuse after it: a
    missing or unwritable folder, a target that is not a regular file. (A command that takes
    seconds to compute its output should not spend them for nothing.) Raises :class:`DataError`."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise DataError(f"{path}: folder '{folder}' does not exist")
    _target_mode(path)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DataError(f"{path}: cannot write (folder '{folder}' is not writable)")


def _stage(path: Path, text: str) -> Path:
    """Write ``text`` to a new temporary file beside ``path``; returns its name (mode already set)."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise DataError(f"{path}: folder '{folder}' does not exist")
    mode = _target_mode(path)
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise DataError(f"{path}: cannot write ({exc.strerror})") from None
    temp = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fchmod(out.fileno(), mode)
    except BaseException as exc:
        temp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise DataError(f"{path}: cannot write ({exc.strerror})") from None
        raise
    return temp


def write_atomically(path: Path | str, text: str) -> None:
    """Replace (or create) ``path`` with ``text`` atomically; raises :class:`DataError`."""
    write_all_atomically({Path(path): text})


def write_all_atomically(files: Mapping[Path, str]) -> None:
    """Write every file or none: all are staged first, then renamed into place one by one."""
    staged: list[tuple[Path, Path]] = []
    try:
        for path, text in files.items():
            staged.append((_stage(path, text), path))
        for temp, path in staged:
            try:
                os.replace(temp, path)
            except OSError as exc:
                raise DataError(f"{path}: cannot write ({exc.strerror})") from None
    finally:
        for temp, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()


@contextlib.contextmanager
def open_atomically(path: Path | str) -> Iterator[BinaryIO]:
    """A binary file to stream into, that replaces ``path`` only when the block ends without an
    error (large outputs, such as a Parquet file of millions of verdicts, are written as they are
    made, never held in memory); on any failure the target is untouched and the temporary gone."""
    target = Path(path)
    temp = _stage(target, "")
    try:
        with temp.open("r+b") as out:
            yield out
            out.flush()
        try:
            os.replace(temp, target)
        except OSError as exc:
            raise DataError(f"{target}: cannot write ({exc.strerror})") from None
    except OSError as exc:
        raise DataError(f"{target}: cannot write ({exc.strerror})") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
