"""The leaderboard's protocol names a fold file's split."""
from __future__ import annotations

import json
from pathlib import Path

from harness.results.split_source import protocol_with_split, split_source


def test_protocol_names_the_fold_file(tmp_path: Path):
    own, emobox = tmp_path / "own", tmp_path / "emobox"
    own.mkdir()
    emobox.mkdir()
    (own / "meta.json").write_text(json.dumps({"split_source": ""}))
    (emobox / "meta.json").write_text(json.dumps({"split_source": "file:iemocap"}))
    assert split_source(emobox) == "file:iemocap" and split_source(own) == "" and split_source(tmp_path) == ""
    assert protocol_with_split("val", own, own) == "val"
    assert protocol_with_split("val+transductive", own, emobox) == "val+transductive+folds=file:iemocap"
    assert protocol_with_split("val", emobox, emobox) == "val+folds=file:iemocap"
