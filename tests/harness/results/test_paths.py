"""Paths in the results tables are relative to the results directory, and resolve after a move."""
from __future__ import annotations

import math

from harness.results.paths import relative_to_results, resolve_in_results


def test_relative_inside_and_unchanged_otherwise(tmp_path):
    results = tmp_path / "results" / "exp"
    ckpt = results / "ray" / "unit" / "trial" / "checkpoint_000001"
    assert relative_to_results(str(ckpt), results) == "ray/unit/trial/checkpoint_000001"
    for value in ("/elsewhere/ckpt", "bucket/prefix/ckpt", "s3://bucket/ckpt", None, "", math.nan):
        out = relative_to_results(value, results)
        assert out == value or (isinstance(value, float) and math.isnan(out))


def test_resolve_relative_uri_and_old_absolute_paths_after_a_move(tmp_path):
    moved = tmp_path / "copy" / "exp"
    (moved / "ray" / "u" / "c").mkdir(parents=True)
    assert resolve_in_results("ray/u/c", moved) == str(moved / "ray/u/c")
    assert resolve_in_results("s3://b/ray/u/c", moved) == "s3://b/ray/u/c"
    # an absolute path written before the move, by an older version: found again under the new directory
    assert resolve_in_results("/old/place/exp/ray/u/c", moved) == str(moved / "ray" / "u" / "c")
    assert resolve_in_results("/old/place/other/u/c", moved) == "/old/place/other/u/c"  # left to fail, named
