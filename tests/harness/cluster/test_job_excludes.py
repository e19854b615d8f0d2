"""What a submitted job uploads: the project's own data/ and results/ stay behind, harness/results/ goes."""
from __future__ import annotations

from pathlib import Path

from ray._private.runtime_env.packaging import _get_excludes  # the matcher Ray applies to `excludes`

from harness.cluster.jobs import EXCLUDES, project_root


def test_excludes_keep_the_results_package_and_drop_the_projects_outputs():
    root = project_root()
    excluded = _get_excludes(root, list(EXCLUDES))
    assert not excluded(root / "harness" / "results" / "io.py")
    assert not excluded(root / "harness" / "results")
    assert excluded(root / "results" / "quickstart")
    assert excluded(root / "data" / "corpora")
    assert excluded(root / ".git")
