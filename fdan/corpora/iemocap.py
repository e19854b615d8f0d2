"""The `iemocap` importer: IEMOCAP as released (IEMOCAP_full_release), leave-one-session-out.

Layout under ROOT (the folder holding Session1 ... Session5; names matched case-insensitively):
  Session{n}/dialog/EmoEvaluation/<dialog>.txt        label files (sub-folders there are not read)
  Session{n}/sentences/wav/<dialog>/<turn>.wav        one wav per turn (the utterance)
  Session{n}/dialog/avi/DivX/<dialog>.avi             one video per dialog (both actors)

Only the bracketed summary lines of a label file count:
  [START - END]<TAB>TURN<TAB>EMO<TAB>[V, A, D]        e.g. [6.2901 - 8.2357]  Ses01F_impro01_F000  neu  [2.5, 2.5, 2.5]
every other line (header, annotator lines `C-E1:`, `A-E2:`, blanks) is ignored.

Each labelled turn becomes one Utterance: video_path the dialog AVI with start/end = the label times
(the AVI is cut to them), audio_path the turn's sentence wav (already the utterance, used whole;
see the segment rule on `Utterance`). speaker = session + the turn speaker's gender, the letter that
starts the last part of the turn name (Ses01F_impro01_M003 -> Ses01_M); fold = session number - 1;
split "all".

Face (`face` option): a dialog video shows both actors; the turn's speaker is the actor whose gender
letter ends the turn name, and is found in the frame from the video itself: "speaker" (default) takes
the face whose mouth region moves while the turn's own wav is loud (`fdan.features.speaker_face`;
no assumed screen layout); where the faces cannot be told apart the row's face_choice is
`undecided` (largest face used). "largest": the largest, most central face (the listener, often).

Labels (`labels` option): "4class" (default) keeps neu, hap, ang, sad and merges exc into hap;
"full" also keeps sur, fea, dis. fru (frustration), oth (other) and xxx (no agreement) have no
canonical label and are skipped under both. Also skipped with a reason: an unknown code, an
unparsable line or turn name, a duplicate turn, a missing wav or dialog AVI, a wav without a label
line, an AVI without a label file, a missing session or EmoEvaluation folder.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar, Literal

from fdan.corpora.base import FACE_RULES, CorpusError, ScanResult, Skip, Utterance, check_root, register_importer
from fdan.corpora.fold_file import apply_fold_file
from fdan.corpora.native import check_choice, files_with_suffix, find_dir, nested_hint, rel

SESSIONS = 5
FOUR_CLASS: dict[str, str] = {
    "neu": "neutral", "hap": "happiness", "exc": "happiness", "ang": "anger", "sad": "sadness",
}
FULL_EXTRA: dict[str, str] = {"sur": "surprise", "fea": "fear", "dis": "disgust"}
NO_CANONICAL: dict[str, str] = {"fru": "frustration", "oth": "other", "xxx": "no annotator agreement"}
LABEL_SETS = ("4class", "full")

SUMMARY_LINE = re.compile(r"^\[\s*(\d+(?:\.\d*)?)\s*-\s*(\d+(?:\.\d*)?)\s*\]\s+(\S+)\s+(\S+)\s+\[[^\]]*\]\s*$")
TURN_NAME = re.compile(r"^(Ses(\d\d)[FM]_.+)_([FM])[A-Za-z0-9]*$")


def _sub(folder: Path | None, *names: str) -> Path | None:
    for name in names:
        if folder is None:
            return None
        folder = find_dir(folder, name)
    return folder


@register_importer("iemocap")
@dataclass
class IemocapImporter:
    """IEMOCAP importer (module docstring); options `labels`: "4class" | "full", `face`: "speaker" | "largest"."""

    labels: Literal["4class", "full"] = "4class"
    face: str = "speaker"
    fold_file: str = ""  # folds from a file (fdan.corpora.fold_file), e.g. EmoBox's partition
    name: ClassVar[str] = "iemocap"

    def __post_init__(self) -> None:
        check_choice("labels", self.labels, LABEL_SETS)
        check_choice("face", self.face, FACE_RULES)

    def canonical(self, code: str) -> tuple[str | None, str]:
        """(canonical label or None, reason when None) for an EmoEvaluation code."""
        if code in FOUR_CLASS:
            return FOUR_CLASS[code], ""
        if code in FULL_EXTRA:
            if self.labels == "full":
                return FULL_EXTRA[code], ""
            return None, f"label {code!r} is outside the 4-class set (option labels='full' keeps it)"
        if code in NO_CANONICAL:
            return None, f"label {code!r} ({NO_CANONICAL[code]}) has no canonical label"
        return None, f"unknown emotion code {code!r}"

    def scan(self, root: Path) -> ScanResult:
        root = check_root(Path(root))
        sessions = {n: find_dir(root, f"Session{n}") for n in range(1, SESSIONS + 1)}
        if not any(sessions.values()):
            raise CorpusError(f"{root} is not an IEMOCAP root: expected folders Session1 ... Session{SESSIONS} "
                              "(IEMOCAP_full_release)"
                              + nested_hint(root, lambda name: re.fullmatch(r"session[1-5]", name.lower()) is not None))
        utts: list[Utterance] = []
        skipped: list[Skip] = []
        for n, session in sessions.items():
            if session is None:
                skipped.append(Skip(f"Session{n}", f"session folder missing: fold {n - 1} has no utterances"))
                continue
            self._scan_session(root, n, session, utts, skipped)
        utts = [replace(u, face_rule=self.face) for u in utts]
        return apply_fold_file(ScanResult(corpus="iemocap", utterances=utts, skipped=skipped), self.fold_file, root)

    def _scan_session(self, root: Path, n: int, session: Path, utts: list[Utterance], skipped: list[Skip]) -> None:
        labels_dir = _sub(session, "dialog", "EmoEvaluation")
        wav_root = _sub(session, "sentences", "wav")
        avi_dir = _sub(session, "dialog", "avi", "DivX")
        avis = {p.stem: p for p in files_with_suffix(avi_dir, [".avi"])} if avi_dir else {}
        wavs: dict[str, Path] = {}
        if wav_root is not None:
            for folder in sorted(p for p in wav_root.iterdir() if p.is_dir()):
                wavs.update({p.stem: p for p in files_with_suffix(folder, [".wav"])})
        if labels_dir is None:
            skipped.append(Skip(rel(root, session), "no dialog/EmoEvaluation folder: the session's labels are missing"))
        seen: set[str] = set()
        for label_file in files_with_suffix(labels_dir, [".txt"]) if labels_dir else []:
            file_rel = rel(root, label_file)
            text = label_file.read_bytes().decode("latin-1")
            for line_no, line in enumerate(text.splitlines(), start=1):
                if not line.lstrip().startswith("["):
                    continue
                where = f"{file_rel}:{line_no}"
                m = SUMMARY_LINE.match(line.strip())
                if m is None:
                    skipped.append(Skip(where, f"unparsable label line {line.strip()[:60]!r}"))
                    continue
                start, end, turn, code = float(m.group(1)), float(m.group(2)), m.group(3), m.group(4).lower()
                utt = self._utterance(root, n, turn, code, start, end, wavs, avis, where, seen, skipped)
                if utt is not None:
                    utts.append(utt)
        for turn, wav in sorted(wavs.items()):
            if turn not in seen:
                skipped.append(Skip(rel(root, wav), "sentence wav without a label line in EmoEvaluation"))
        labelled = {t.rsplit("_", 1)[0] for t in seen}
        for dialog, avi in sorted(avis.items()):
            if dialog not in labelled:
                skipped.append(Skip(rel(root, avi), "dialog video without labelled turns in EmoEvaluation"))

    def _utterance(self, root: Path, n: int, turn: str, code: str, start: float, end: float,
                   wavs: dict[str, Path], avis: dict[str, Path], where: str, seen: set[str],
                   skipped: list[Skip]) -> Utterance | None:
        """The Utterance of one summary line, or None after appending its Skip."""
        m = TURN_NAME.match(turn)
        if m is None:
            skipped.append(Skip(where, f"unparsable turn name {turn!r} (expected Ses01F_impro01_F000)"))
            return None
        dialog, ses, gender = m.group(1), int(m.group(2)), m.group(3)
        if turn in seen:
            skipped.append(Skip(where, f"duplicate label line for {turn}"))
            return None
        seen.add(turn)
        where = rel(root, wavs[turn]) if turn in wavs else where
        label, why = self.canonical(code)
        if label is None:
            skipped.append(Skip(where, f"{turn}: {why}"))
        elif ses != n:
            skipped.append(Skip(where, f"{turn}: turn of session {ses} listed in Session{n}"))
        elif end <= start:
            skipped.append(Skip(where, f"{turn}: empty segment [{start} - {end}]"))
        elif turn not in wavs:
            skipped.append(Skip(where, f"{turn}: no sentence wav sentences/wav/{dialog}/{turn}.wav"))
        elif dialog not in avis:
            skipped.append(Skip(where, f"{turn}: dialog video dialog/avi/DivX/{dialog}.avi missing"))
        else:
            return Utterance(
                corpus="iemocap", utterance_id=turn, speaker=f"Ses{ses:02d}_{gender}", corpus_label=code,
                label=label, split="all", fold=n - 1, audio_path=rel(root, wavs[turn]),
                video_path=rel(root, avis[dialog]), start=start, end=end,
            )
        return None
