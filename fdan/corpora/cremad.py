"""The `cremad` importer: CREMA-D in its release layout (the GitHub repository, cloned with git-lfs).

ROOT holds `AudioWAV/<stem>.wav` (16 kHz) and `VideoFlash/<stem>.flv` (other folders such as
`AudioMP3/` are not read). The stem is `ActorID_Sentence_Emotion_Level`, e.g. `1001_DFA_ANG_XX`:
actor 1001-1091, one of the 12 sentences (IEO, TIE, IOM, IWW, TAI, MTI, IWL, ITH, DFA, ITS, TSI,
WSI), emotion ANG DIS FEA HAP NEU SAD, level LO MD HI XX. An utterance is the pair wav + flv: audio
from the wav, faces from the flv.

Labels (`label_source` option):
- "acted" (default): the emotion the actor was asked to show, from the file name; `corpus_label` is
  the 3-letter code.
- "voice" / "face" / "multimodal": the majority vote of the crowd raters who heard the audio alone,
  saw the video alone, or saw both: column VoiceVote / FaceVote / MultiModalVote of
  `processedResults/summaryTable.csv` (joined on its FileName column); `corpus_label` is the vote
  letter (A D F H N S). A tie (`A:D`), a clip missing from the table or an unknown letter is skipped.

The misspelt level of older copies (`AudioWAV/1040_ITH_SAD_X.wav`, CREMA-D issue #6) is read as
XX, so that wav pairs with `VideoFlash/1040_ITH_SAD_XX.flv` (utterance id `1040_ITH_SAD_XX`).

Skipped with a reason: a name that does not parse, an unknown code, a wav without its flv (or the
reverse), a git-lfs pointer instead of media (repository downloaded without git-lfs), the known
broken clip 1076_MTI_SAD_XX (silent audio). Option `folds` = 5: actors dealt round-robin over
speaker-independent folds (fdan.corpora.native.speaker_folds).
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from fdan.corpora.base import CorpusError, ScanResult, Skip, Utterance, check_root, register_importer
from fdan.corpora.fold_file import apply_fold_file
from fdan.corpora.native import (check_choice, check_folds, files_with_suffix, find_dir, nested_hint, rel,
                                 speaker_folds)

ACTED = {"ANG": "anger", "DIS": "disgust", "FEA": "fear", "HAP": "happiness", "NEU": "neutral", "SAD": "sadness"}
VOTES = {"A": "anger", "D": "disgust", "F": "fear", "H": "happiness", "N": "neutral", "S": "sadness"}
SENTENCES = ("IEO", "TIE", "IOM", "IWW", "TAI", "MTI", "IWL", "ITH", "DFA", "ITS", "TSI", "WSI")
LEVELS = ("LO", "MD", "HI", "XX")
KNOWN_BROKEN = {"1076_MTI_SAD_XX": "known broken clip (corpora.md): silent audio"}
LABEL_SOURCES = ("acted", "voice", "face", "multimodal")
_VOTE_COLUMN = {"voice": "voicevote", "face": "facevote", "multimodal": "multimodalvote"}
_STEM = re.compile(r"^(\d{4})_([A-Za-z]{3})_([A-Za-z]{3})_([A-Za-z]{1,2})$")
# level misspellings of released copies (CREMA-D issue #6: AudioWAV/1040_ITH_SAD_X.wav until 2022)
LEVEL_TYPOS = {"X": "XX"}
_LFS_MAGIC = b"version https://git-lfs"
_CLIP_SUFFIX = re.compile(r"\.(flv|wav|mp3|mp4)$", re.IGNORECASE)


def parse_stem(stem: str) -> tuple[str, str] | str:
    """`1001_DFA_ANG_XX` -> (actor "1001", emotion "ANG"); a str is why the stem does not parse."""
    m = _STEM.match(stem)
    if not m:
        return "not a CREMA-D file name (ActorID_Sentence_Emotion_Level, e.g. 1001_DFA_ANG_XX)"
    actor, sentence, emotion, level = m.group(1), m.group(2).upper(), m.group(3).upper(), m.group(4).upper()
    level = LEVEL_TYPOS.get(level, level)
    if sentence not in SENTENCES:
        return f"unknown CREMA-D sentence code {sentence!r}"
    if emotion not in ACTED:
        return f"unknown CREMA-D emotion code {emotion!r} (one of {', '.join(ACTED)})"
    if level not in LEVELS:
        return f"unknown CREMA-D emotion level {level!r} (one of {', '.join(LEVELS)})"
    return actor, emotion


def stem_key(stem: str) -> str:
    """The stem a clip pairs and is named by: upper case, a misspelt level corrected
    (`1040_ITH_SAD_X` -> `1040_ITH_SAD_XX`)."""
    head, _, level = stem.upper().rpartition("_")
    return f"{head}_{LEVEL_TYPOS.get(level, level)}" if head else stem.upper()


def _is_lfs_pointer(path: Path) -> bool:
    if path.stat().st_size > 1024:
        return False
    with open(path, "rb") as fh:
        return fh.read(len(_LFS_MAGIC)) == _LFS_MAGIC


def read_votes(table: Path, source: str) -> dict[str, str]:
    """summaryTable.csv -> {file stem: raw vote} for `source` (voice / face / multimodal).

    Column names are matched case-insensitively (the readme writes fileName, the file FileName);
    R's unnamed row-number column, if present, is ignored."""
    try:
        with open(table, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            cols = {(c or "").strip().lower(): c for c in reader.fieldnames or []}
            need = ("filename", _VOTE_COLUMN[source])
            absent = [c for c in need if c not in cols]
            if absent:
                raise CorpusError(f"{table}: no column(s) {', '.join(absent)} (case-insensitive); "
                                  f"found {', '.join(reader.fieldnames or [])}")
            # FileName is the bare stem; tolerate one given with its media suffix
            return {_CLIP_SUFFIX.sub("", (row[cols["filename"]] or "").strip()): (row[cols[need[1]]] or "").strip()
                    for row in reader}
    except (UnicodeDecodeError, csv.Error) as exc:  # not UTF-8 text, or not CSV: one clear error, not a traceback
        raise CorpusError(f"{table}: not a readable UTF-8 CSV table ({exc})") from None


@dataclass
class CremadImporter:
    """CREMA-D wav + flv pairs; options `label_source`, `folds` (module docstring)."""

    label_source: str = "acted"
    folds: int = 5
    fold_file: str = ""  # folds from a file (fdan.corpora.fold_file), e.g. EmoBox's partition
    name = "cremad"  # class attribute, not an option

    def __post_init__(self) -> None:
        check_choice("label_source", self.label_source, LABEL_SOURCES)
        check_folds(self.folds)

    def _collect(self, root: Path, folder: Path, suffix: str, skipped: list[Skip]) -> dict[str, str]:
        found: dict[str, str] = {}
        for f in files_with_suffix(folder, [suffix]):
            path, stem = rel(root, f), stem_key(f.stem)
            parsed = parse_stem(f.stem)
            if isinstance(parsed, str):
                skipped.append(Skip(path, parsed))
            elif _is_lfs_pointer(f):
                skipped.append(Skip(path, "git-lfs pointer, not media (clone the repository with git-lfs installed)"))
            elif stem in found:
                skipped.append(Skip(path, f"duplicate of {found[stem]}"))
            else:
                found[stem] = path
        return found

    def _votes(self, root: Path) -> dict[str, str]:
        results = find_dir(root, "processedResults")
        table = next((p for p in files_with_suffix(results, [".csv"]) if p.name.lower() == "summarytable.csv"),
                     None) if results else None
        if table is None:
            raise CorpusError(f"importer option label_source={self.label_source!r} needs "
                              f"processedResults/summaryTable.csv under {root}; it is not there "
                              f"(use label_source: acted, or copy processedResults/ from the CREMA-D repository)")
        return {stem_key(k): v for k, v in read_votes(table, self.label_source).items()}

    def _label(self, stem: str, emotion: str, votes: dict[str, str] | None) -> tuple[str, str] | str:
        """(corpus_label, canonical label), or the reason there is none."""
        if votes is None:
            return emotion, ACTED[emotion]
        vote = votes.get(stem)
        where = f"processedResults/summaryTable.csv ({self.label_source} vote)"
        if not vote:
            return f"no {self.label_source} vote for this clip in {where}"
        if ":" in vote:
            return f"{self.label_source} vote is a tie ({vote}) in {where}"
        if vote.upper() not in VOTES:
            return f"unknown {self.label_source} vote {vote!r} in {where} (one of {', '.join(VOTES)})"
        return vote.upper(), VOTES[vote.upper()]

    def scan(self, root: Path) -> ScanResult:
        """Pair AudioWAV wavs with VideoFlash flvs; raise CorpusError if either folder is missing."""
        root = check_root(Path(root))
        audio_dir, video_dir = find_dir(root, "AudioWAV"), find_dir(root, "VideoFlash")
        if audio_dir is None or video_dir is None:
            missing = " and ".join(n for n, d in (("AudioWAV/", audio_dir), ("VideoFlash/", video_dir)) if d is None)
            raise CorpusError(f"{root} is not a CREMA-D release with audio and video: {missing} missing "
                              f"(expected AudioWAV/*.wav and VideoFlash/*.flv directly under it; the "
                              f"audio-only copies of CREMA-D have no video)"
                              + nested_hint(root, lambda n: n.lower() in ("audiowav", "videoflash")))
        votes = self._votes(root) if self.label_source != "acted" else None
        skipped: list[Skip] = []
        wavs = self._collect(root, audio_dir, ".wav", skipped)
        flvs = self._collect(root, video_dir, ".flv", skipped)
        for stem in sorted(set(wavs) - set(flvs)):
            skipped.append(Skip(wavs[stem], "no video partner VideoFlash/<same stem>.flv"))
        for stem in sorted(set(flvs) - set(wavs)):
            skipped.append(Skip(flvs[stem], "no audio partner AudioWAV/<same stem>.wav"))
        rows: list[tuple[str, str, str, str]] = []  # stem, actor, corpus_label, label
        for stem in sorted(set(wavs) & set(flvs)):
            if stem in KNOWN_BROKEN:
                skipped.append(Skip(wavs[stem], KNOWN_BROKEN[stem]))
                continue
            parsed = parse_stem(stem)
            assert not isinstance(parsed, str), parsed  # _collect kept only stems that parse
            actor, emotion = parsed
            labelled = self._label(stem, emotion, votes)
            if isinstance(labelled, str):
                skipped.append(Skip(flvs[stem], labelled))
                continue
            rows.append((stem, actor, *labelled))
        fold_of = speaker_folds((r[1] for r in rows), self.folds, self.name) if rows else {}
        utts = [Utterance(corpus=self.name, utterance_id=stem, speaker=actor, corpus_label=code, label=label,
                          split="all", fold=fold_of[actor], audio_path=wavs[stem], video_path=flvs[stem])
                for stem, actor, code, label in rows]
        return apply_fold_file(ScanResult(corpus=self.name, utterances=utts, skipped=skipped), self.fold_file, root)


register_importer("cremad")(CremadImporter)
register_importer("crema-d")(CremadImporter)  # the name experiments/*.yaml use
