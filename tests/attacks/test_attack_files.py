"""Attack corpus: output files and input file sizes (issue 11), in process."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from axilla_kg.errors import DataError
from axilla_kg.formats.atomic import write_all_atomically, write_atomically
from axilla_kg.inputs.files import read_capped


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_file_follows_the_umask(tmp_path: Path, umask: None) -> None:
    write_atomically(tmp_path / "a.ttl", "x")
    assert _mode(tmp_path / "a.ttl") == 0o644  # mkstemp alone gave 0600
    os.umask(0o027)
    write_atomically(tmp_path / "b.ttl", "x")
    assert _mode(tmp_path / "b.ttl") == 0o640


def test_existing_target_keeps_its_mode(tmp_path: Path, umask: None) -> None:
    target = tmp_path / "out.ttl"
    target.write_text("old")
    target.chmod(0o664)
    write_atomically(target, "new")
    assert target.read_text() == "new" and _mode(target) == 0o664


def test_symlink_target_is_refused_and_left_alone(tmp_path: Path) -> None:
    real = tmp_path / "real.ttl"
    real.write_text("keep")
    link = tmp_path / "link.ttl"
    link.symlink_to(real)
    with pytest.raises(DataError, match="symbolic link"):
        write_atomically(link, "new")
    assert link.is_symlink() and real.read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.ttl", "real.ttl"]


def test_fifo_directory_and_device_targets_are_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match="FIFO"):
        write_atomically(fifo, "x")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    with pytest.raises(DataError, match="directory"):
        write_atomically(tmp_path, "x")
    with pytest.raises(DataError, match="device"):
        write_atomically(Path("/dev/null"), "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_missing_folder_and_proc_targets(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        write_atomically(tmp_path / "no" / "such.ttl", "x")
    with pytest.raises(DataError, match=r"/proc/self/status.*cannot write"):
        write_atomically(Path("/proc/self/status"), "x")


def test_temp_file_removed_when_writing_fails(tmp_path: Path) -> None:
    with pytest.raises(UnicodeEncodeError):
        write_atomically(tmp_path / "a.ttl", "lone surrogate \ud800")
    assert list(tmp_path.iterdir()) == []


def test_all_or_nothing(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    with pytest.raises(DataError, match="directory"):
        write_all_atomically({tmp_path / "a.ttl": "a", tmp_path / "b": "b"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]


def test_read_capped_refuses_endless_and_oversize_input(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="/dev/zero: case file is larger than the 1 MiB limit"):
        read_capped("/dev/zero", 1024 * 1024, "case file")
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 101)
    with pytest.raises(DataError, match="larger than the 100 bytes limit"):
        read_capped(big, 100)
    assert read_capped(big, 101) == b" " * 101
    with pytest.raises(DataError, match="is a directory"):
        read_capped(tmp_path, 100)
    with pytest.raises(DataError, match="no such file"):
        read_capped(tmp_path / "missing", 100)
