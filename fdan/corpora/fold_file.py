"""Folds from a file (importer option `fold_file`): a published partition instead of fdan-bench's own folds.

Two forms are read:

- a table (.csv or .tsv, header row) with a `fold` column (integers >= 0, used as given) and either
  `utterance_id` or `speaker`. An utterance id matches the manifest's `utterance_id` or the stem of
  the utterance's audio or video file name (`Ses01F_impro01_F000`, `1001_DFA_ANG_XX`); a speaker
  matches the manifest's `speaker`.
- an EmoBox data folder (github.com/emo-box/EmoBox, `data/<dataset>/`): every
  `fold_<k>/*test_fold_<k>.jsonl` lists fold k's test utterances, one JSON object a line; the
  utterance is its `key` without the `<dataset>-` prefix, or its `wav` file's stem; fold k -> k - 1.

Every imported utterance then takes its fold from the file; one the file does not assign is
skipped ("not in fold file ..."), so the folds are exactly the file's. A file that assigns none of the
corpus' utterances, or one utterance to two folds, is a CorpusError. The source is recorded in the
cache's meta.json (`split_source`) and named in the leaderboard's protocol column.
"""
from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pandas as pd

from fdan.corpora.base import CorpusError, ScanResult, Skip, Utterance

EMOBOX_TEST = re.compile(r"test_fold_(\d+)\.jsonl$")


def resolve(path: str, root: Path) -> Path:
    """The fold file: `path` as given (absolute, or relative to the working directory), else relative
    to the corpus root."""
    given = Path(path).expanduser()
    for candidate in (given, root / given):
        if candidate.exists():
            return candidate
    raise CorpusError(f"fold_file {path!r} not found (looked in the working directory and in {root})")


def _emobox(folder: Path) -> dict[str, int]:
    files = sorted(p for p in folder.rglob("*.jsonl") if EMOBOX_TEST.search(p.name))
    if not files:
        raise CorpusError(f"fold_file {folder} is a folder but holds no EmoBox fold_<k>/*test_fold_<k>.jsonl files")
    out: dict[str, int] = {}
    for f in files:
        fold = int(EMOBOX_TEST.search(f.name).group(1)) - 1
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                raise CorpusError(f"{f}:{n}: not a JSON line") from None
            key = str(item.get("key", ""))
            names = {key.split("-", 1)[1] if "-" in key else key, Path(str(item.get("wav", ""))).stem} - {""}
            for name in names:
                if out.get(name, fold) != fold:
                    raise CorpusError(f"fold_file {folder}: {name} is in the test lists of folds {out[name] + 1} and {fold + 1}")
                out[name] = fold
    return out


def _table(path: Path) -> tuple[str, dict[str, int]]:
    table = pd.read_csv(path, sep=None, engine="python", dtype=str, keep_default_na=False)
    table.columns = [c.strip().lower() for c in table.columns]
    key = next((c for c in ("utterance_id", "speaker") if c in table.columns), None)
    if key is None or "fold" not in table.columns:
        raise CorpusError(f"fold_file {path}: needs a `fold` column and an `utterance_id` or `speaker` column, "
                          f"has {', '.join(table.columns)}")
    out: dict[str, int] = {}
    for n, (name, fold) in enumerate(zip(table[key].str.strip(), table["fold"].str.strip()), start=2):
        if not fold.isdigit():
            raise CorpusError(f"fold_file {path} line {n}: fold {fold!r} is not an integer >= 0")
        if out.get(name, int(fold)) != int(fold):
            raise CorpusError(f"fold_file {path} line {n}: {key} {name} is assigned folds {out[name]} and {fold}")
        out[name] = int(fold)
    return key, out


def apply_fold_file(scan: ScanResult, fold_file: str, root: Path) -> ScanResult:
    """`scan` with every utterance's fold taken from `fold_file` (module docstring); "" = unchanged."""
    if not fold_file:
        return scan
    path = resolve(fold_file, Path(root))
    key, folds = ("utterance_id", _emobox(path)) if path.is_dir() else _table(path)

    def fold_of(u: Utterance) -> int | None:
        if key == "speaker":
            return folds.get(u.speaker)
        names = [u.utterance_id, Path(u.audio_path).stem, Path(u.video_path).stem]
        return next((folds[n] for n in names if n and n in folds), None)

    kept, skipped = [], list(scan.skipped)
    for u in scan.utterances:
        fold = fold_of(u)
        if fold is None:
            skipped.append(Skip(u.audio_path or u.video_path, f"{u.utterance_id}: not in fold file {path.name}"))
        else:
            kept.append(replace(u, fold=fold))
    if not kept:
        raise CorpusError(f"fold_file {path}: none of the {len(scan.utterances)} utterances of {scan.corpus} is in it "
                          f"(matched by {key}); is it this corpus' file?")
    return ScanResult(scan.corpus, kept, skipped)


def split_source(fold_file: str) -> str:
    """The leaderboard's name for a split: `file:<name>` for a fold file, "" for the corpus' default."""
    return f"file:{Path(fold_file).name}" if fold_file else ""
