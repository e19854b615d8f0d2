"""Atomic writes: a failed or killed writer leaves the old file or the new one, never a truncated one."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from harness.results.atomic import atomic_write, write_json, write_text


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path: Path):
    target = write_text(tmp_path / "table.csv", "old\n")

    def half_then_fail(tmp: Path) -> None:
        tmp.write_text("ne")  # half of the new content, then the writer dies
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(target, half_then_fail)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]


def test_parent_created_suffix_kept_for_savefig_and_mode_follows_umask(tmp_path: Path):
    fig = Figure()
    fig.add_subplot().plot([0, 1], [1, 0])
    png = atomic_write(tmp_path / "plots" / "curve.png", lambda tmp: fig.savefig(tmp))  # format from the suffix
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    umask = os.umask(0)
    os.umask(umask)
    assert png.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600: shared results stay readable
    write_json(tmp_path / "x.json", {"a": float("nan")})
    assert (tmp_path / "x.json").read_text() == '{"a": NaN}\n'


WRITER = """
import sys, time
from harness.results.atomic import atomic_write
target, n = sys.argv[1], 0
def slow(tmp):
    with open(tmp, "w") as fh:
        for _ in range(200):
            fh.write(str(n % 10) * 5000); fh.flush(); time.sleep(0.001)
while True:
    atomic_write(target, slow)
    n += 1
    print(n, flush=True)
"""


def test_sigkill_mid_write_leaves_a_complete_file(tmp_path: Path):
    """A real writer process, killed at several moments while it rewrites the file: always 1 MB of one digit."""
    target = tmp_path / "units" / "u.json"
    target.parent.mkdir()
    target.write_text("9" * 1_000_000)
    for delay in (0.05, 0.23, 0.41):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE,
                                cwd=Path(__file__).resolve().parents[3])
        time.sleep(delay + 0.5)  # import time, then somewhere inside a write
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        text = target.read_text()
        assert len(text) == 1_000_000 and len(set(text)) == 1
    leftovers = [p for p in target.parent.iterdir() if p.name != "u.json"]
    assert all(p.name.startswith(".u.json.") for p in leftovers)  # a hard kill may leave a hidden temporary
