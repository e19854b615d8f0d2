"""Per-pair label distributions from the feature caches' manifests (caches written here by hand)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from harness.report.label_shift import distribution_display, distributions_markdown, label_distributions

from ..results_data import make_trials

FEATURES = {"n_mels": 32, "face_size": 32}


def write_cache(cache_root: Path, name: str, root: Path, labels: dict[str, int], features=FEATURES,
                created="2026-01-01T00:00:00+00:00") -> Path:
    d = cache_root / f"{name}-{abs(hash((str(root), created, str(features)))) % 10**8}"
    d.mkdir(parents=True)
    rows = [lab for lab, n in labels.items() for _ in range(n)]
    pd.DataFrame({"corpus": name, "utterance_id": [f"u{i}" for i in range(len(rows))], "label": rows}).to_csv(
        d / "manifest.csv", index=False)
    (d / "meta.json").write_text(json.dumps({"corpus": name, "importer": name, "root": str(root),
                                             "feature_config": {**features, "sample_rate": 16000},
                                             "created": created}))
    return d


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder with two corpora's caches; the report runs from elsewhere (paths via the results dir)."""
    monkeypatch.chdir(tmp_path.parent)
    cache = tmp_path / "data" / "cache"
    write_cache(cache, "savee", tmp_path / "corpora" / "savee", {"anger": 6, "happiness": 2, "sadness": 2, "neutral": 10})
    write_cache(cache, "meld", tmp_path / "corpora" / "meld", {"anger": 1, "happiness": 6, "sadness": 3, "fear": 5})
    # a stale cache of the same corpus with other features is not read
    write_cache(cache, "savee", tmp_path / "corpora" / "savee", {"anger": 100}, features={"n_mels": 64, "face_size": 32},
                created="2027-01-01T00:00:00+00:00")
    config = {"output_dir": "results", "cache_dir": "data/cache", "features": FEATURES,
              "corpora": {"savee": {"importer": "savee", "root": "corpora/savee"},
                          "meld": {"importer": "meld", "root": "corpora/meld"}}}
    return tmp_path, config


def test_counts_in_the_pair_label_space_and_total_variation(project):
    root, config = project
    dists, notes = label_distributions(make_trials(), config, root / "results" / "toy")
    assert notes == []
    within, cross = dists
    assert within.pair == "savee" and within.counts["source"].to_dict() == {"anger": 6, "happiness": 2, "sadness": 2,
                                                                            "neutral": 10}
    assert cross.pair == "savee→meld" and list(cross.counts.index) == ["anger", "happiness", "sadness"]
    assert cross.counts["source"].tolist() == [6, 2, 2] and cross.counts["target"].tolist() == [1, 6, 3]
    # source (0.6, 0.2, 0.2), target (0.1, 0.6, 0.3): TV = (0.5 + 0.4 + 0.1) / 2
    assert cross.total_variation == pytest.approx(0.5)
    assert within.total_variation == 0.0
    assert distribution_display(cross).loc[0].tolist() == ["anger", "6 (60.0 %)", "1 (10.0 %)"]
    assert distribution_display(within).columns.tolist() == ["label", "source: savee"]
    md = distributions_markdown(dists)
    assert "### savee→meld — TV = 0.500" in md and "### savee\n" in md


def test_a_missing_cache_is_a_note(project):
    root, config = project
    config = {**config, "corpora": {**config["corpora"], "meld": {"importer": "meld", "root": "elsewhere/meld"}}}
    dists, notes = label_distributions(make_trials(), config, root / "results" / "toy")
    assert [d.pair for d in dists] == ["savee"]
    assert len(notes) == 1 and "label distribution of savee→meld: no feature cache of meld found" in notes[0]
