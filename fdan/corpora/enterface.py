"""The `enterface` importer: eNTERFACE'05 audio-visual emotion database in its release layout.

ROOT holds `subject N/<emotion>/sentence M/sN_<em>_M.avi` (folder names with spaces; "subject N",
the emotion folder and "sentence M" are compared case-insensitively, spaces/underscores optional).
Each avi carries both the face video and the audio. Emotion folders anger, disgust, fear,
happiness, sadness, surprise; name codes an, di, fe, ha, sa, su (no neutral); `corpus_label` is the
two-letter code.

The folder path is the truth: subject, emotion and sentence come from "subject N/<emotion>/sentence
M"; the file name only fills a level that has no folder. Names are parsed tolerantly,
`s_?N?_?<em>_?M(.?avi)+`, which accepts the known faults of released copies (subject 11's files
named s12..., `s16_su_3avi` without the dot, also seen as `s16_su_3avi.avi`, a stray `s_3_`
prefix); a subject or sentence number in the name that disagrees with the folder is ignored (folder
wins). Emotion folders spelt happy, sad, angry, fearful, disgusted, surprised (re-packed copies)
are read like the release's. Skipped with a reason: a name that does not parse at all, an emotion
code that contradicts its emotion folder, a file whose subject or sentence cannot be told, subject
6's files outside a 'sentence M' folder (the release has that subject unsegmented: one 56-107 s
session per emotion, corpora.md), a second file for the same (subject, emotion, sentence),
subjects excluded by option. Files whose name does not end in "avi"
(Thumbs.db, notes) are not media and are not read.

Options: `exclude_subjects` = [] (subject numbers to leave out; many papers drop subject 6, whose
recordings are incomplete in some copies); `folds` = 5: subjects dealt round-robin over
speaker-independent folds (fdan.corpora.native.speaker_folds).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from fdan.corpora.base import CorpusError, ScanResult, Skip, Utterance, check_root, register_importer
from fdan.corpora.fold_file import apply_fold_file
from fdan.corpora.native import check_folds, nested_hint, rel, speaker_folds

LABELS = {"an": "anger", "di": "disgust", "fe": "fear", "ha": "happiness", "sa": "sadness", "su": "surprise"}
FOLDER_CODE = {"anger": "an", "disgust": "di", "fear": "fe", "happiness": "ha", "sadness": "sa", "surprise": "su",
               # spellings of re-packed copies
               "angry": "an", "disgusted": "di", "fearful": "fe", "happy": "ha", "sad": "sa", "surprised": "su"}
UNSEGMENTED_SUBJECT = 6  # released with one whole-session file per emotion (56-107 s), no sentence folders
_UNSEGMENTED = (f"known fault (corpora.md): subject {UNSEGMENTED_SUBJECT} is released unsegmented, one whole-"
                f"session recording per emotion with no 'sentence M' folder; not one utterance")
_SUBJECT = re.compile(r"^subject[\s_]*(\d+)$", re.IGNORECASE)
_SENTENCE = re.compile(r"^sentence[\s_]*(\d+)$", re.IGNORECASE)
_NAME = re.compile(r"^s_?(\d*)_?([a-z]{2})_?(\d*)(?:\.?avi)+$", re.IGNORECASE)  # "3avi", "3avi.avi", "s6_an.avi"


@dataclass(frozen=True)
class Place:
    subject: int
    code: str
    sentence: int


def locate(rel_path: str) -> Place | str:
    """Subject, emotion code and sentence of one file from its folders (then its name); a str is
    the reason it cannot be placed."""
    *folders, name = rel_path.split("/")
    subj = sent = None
    code = None
    for part in folders:
        if m := _SUBJECT.match(part.strip()):
            subj = int(m.group(1))
        elif m := _SENTENCE.match(part.strip()):
            sent = int(m.group(1))
        elif part.strip().lower() in FOLDER_CODE:
            code = FOLDER_CODE[part.strip().lower()]
    if subj == UNSEGMENTED_SUBJECT and sent is None:  # before the name: its whole-session files are named freely
        return _UNSEGMENTED
    m = _NAME.match(name)
    if not m:
        return "not an eNTERFACE'05 file name (sN_<em>_M.avi)"
    name_subj, name_code, name_sent = m.group(1), m.group(2).lower(), m.group(3)
    if name_code not in LABELS:
        return f"unknown eNTERFACE emotion code {m.group(2)!r} (one of {', '.join(LABELS)})"
    if code is not None and name_code != code:
        return f"emotion code {name_code!r} in the name contradicts its folder ({code!r}); not guessed"
    if subj is None and not name_subj:
        return "no 'subject N' folder and no subject number in the name"
    subject = subj if subj is not None else int(name_subj)
    if sent is None and subject == UNSEGMENTED_SUBJECT:
        return _UNSEGMENTED
    if sent is None and not name_sent:
        return "no 'sentence M' folder and no sentence number in the name (an unsegmented recording?)"
    return Place(subject, code or name_code, sent if sent is not None else int(name_sent))


@dataclass
class EnterfaceImporter:
    """eNTERFACE'05 avi clips; options `exclude_subjects`, `folds` (module docstring)."""

    exclude_subjects: Sequence[int] = ()
    folds: int = 5
    fold_file: str = ""  # folds from a file (fdan.corpora.fold_file), e.g. EmoBox's partition
    name = "enterface"  # class attribute, not an option

    def __post_init__(self) -> None:
        subjects = self.exclude_subjects
        if isinstance(subjects, (str, bytes)) or not isinstance(subjects, Sequence) or \
                any(isinstance(s, bool) or not isinstance(s, int) for s in subjects):
            raise ValueError(f"option exclude_subjects={subjects!r} must be a list of subject numbers, e.g. [6]")
        self.exclude_subjects = tuple(sorted(set(subjects)))
        check_folds(self.folds)

    def scan(self, root: Path) -> ScanResult:
        """Every avi under the 'subject N' folders; raise CorpusError if ROOT has no such folder."""
        root = check_root(Path(root))
        if not any(p.is_dir() and _SUBJECT.match(p.name.strip()) for p in root.iterdir()):
            raise CorpusError(f"{root} is not an eNTERFACE'05 release: expected 'subject N/<emotion>/"
                              f"sentence M/*.avi' folders directly under it"
                              + nested_hint(root, lambda n: bool(_SUBJECT.match(n.strip()))))
        skipped: list[Skip] = []
        found: dict[Place, str] = {}
        media = sorted(p for p in root.rglob("*") if p.is_file() and p.name.lower().endswith("avi")
                       and not p.name.startswith("."))
        for f in media:
            path = rel(root, f)
            place = locate(path)
            if isinstance(place, str):
                skipped.append(Skip(path, place))
            elif place.subject in self.exclude_subjects:
                skipped.append(Skip(path, f"subject {place.subject} excluded (importer option exclude_subjects)"))
            elif place in found:
                skipped.append(Skip(path, f"duplicate of {found[place]} (same subject, emotion, sentence)"))
            else:
                found[place] = path
        places = sorted(found, key=lambda p: (p.subject, p.code, p.sentence))
        fold_of = speaker_folds((f"s{p.subject:02d}" for p in places), self.folds, self.name) if places else {}
        utts = [Utterance(corpus=self.name, utterance_id=f"s{p.subject:02d}_{p.code}_{p.sentence}",
                          speaker=f"s{p.subject:02d}", corpus_label=p.code, label=LABELS[p.code], split="all",
                          fold=fold_of[f"s{p.subject:02d}"], audio_path="", video_path=found[p])
                for p in places]
        return apply_fold_file(ScanResult(corpus=self.name, utterances=utts, skipped=skipped), self.fold_file, root)


register_importer("enterface")(EnterfaceImporter)
