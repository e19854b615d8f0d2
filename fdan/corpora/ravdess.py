"""The `ravdess` importer: RAVDESS in its release layout (per-actor zips unpacked under ROOT).

Every file under ROOT (any depth, so `Actor_XX/` from the video zips and
`Audio_Speech_Actors_01-24/Actor_XX/` from the audio zip may sit side by side) whose name is
`MM-VV-EE-II-SS-RR-AA.mp4|.wav` is read: modality MM (01 audio-video, 02 video-only, 03 audio-only),
vocal channel VV (01 speech, 02 song), emotion EE (01 neutral, 02 calm, 03 happy, 04 sad, 05 angry,
06 fearful, 07 disgust, 08 surprised), intensity II (01 normal, 02 strong; neutral has no strong),
statement SS (01/02), repetition RR (01/02), actor AA (01-24). An utterance is one modality-01 mp4:
faces and audio both come from it (`audio_path` ""); `corpus_label` is the emotion code EE.

Skipped with a reason: video-only (02) and audio-only (03) files (the AV row of the same take is the
modality-01 mp4, so nothing is counted twice), songs unless `song=True`, calm unless `calm` says
otherwise, a name with an out-of-range field, a media file with another name, an actor number that
disagrees with its `Actor_XX` folder, a second copy of the same file name.

Options: `calm` = "drop" (default: calm takes are skipped, listed in skipped.csv), "merge" (calm ->
neutral) or "keep" (calm -> canonical "calm"); `song` = False (default) / True; `folds` = 5: actors
dealt round-robin over 5 speaker-independent folds (fdan.corpora.native.speaker_folds).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from fdan.corpora.base import CorpusError, ScanResult, Skip, Utterance, check_root, register_importer
from fdan.corpora.fold_file import apply_fold_file
from fdan.corpora.native import check_choice, check_folds, files_with_suffix, rel, speaker_folds

LABELS = {"01": "neutral", "02": "calm", "03": "happiness", "04": "sadness", "05": "anger",
          "06": "fear", "07": "disgust", "08": "surprise"}
CALM_CHOICES = ("drop", "merge", "keep")
_NAME = re.compile(r"^(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})$")
_ACTOR_DIR = re.compile(r"^actor_(\d+)$", re.IGNORECASE)
_FIELDS = {  # field -> allowed codes
    "modality": ("01", "02", "03"), "vocal channel": ("01", "02"), "emotion": tuple(LABELS),
    "intensity": ("01", "02"), "statement": ("01", "02"), "repetition": ("01", "02"),
    "actor": tuple(f"{i:02d}" for i in range(1, 25)),
}


@dataclass(frozen=True)
class RavdessName:
    modality: str
    vocal: str
    emotion: str
    intensity: str
    statement: str
    repetition: str
    actor: str


def parse_name(stem: str) -> RavdessName | str:
    """`03-01-05-02-01-01-07` -> RavdessName; a str is why the stem is not a valid RAVDESS name."""
    m = _NAME.match(stem)
    if not m:
        return "not a RAVDESS file name (MM-VV-EE-II-SS-RR-AA)"
    for (field, allowed), code in zip(_FIELDS.items(), m.groups()):
        if code not in allowed:
            return f"unknown RAVDESS {field} code {code!r} (one of {', '.join(allowed)})"
    name = RavdessName(*m.groups())
    if name.emotion == "01" and name.intensity == "02":
        return "neutral (01) with strong intensity (02) does not exist in RAVDESS"
    return name


@dataclass
class RavdessImporter:
    """RAVDESS modality-01 mp4 clips; options `calm`, `song`, `folds` (module docstring)."""

    calm: str = "drop"
    song: bool = False
    folds: int = 5
    fold_file: str = ""  # folds from a file (fdan.corpora.fold_file), e.g. EmoBox's partition
    name = "ravdess"  # class attribute, not an option

    def __post_init__(self) -> None:
        check_choice("calm", self.calm, CALM_CHOICES)
        if not isinstance(self.song, bool):
            raise ValueError(f"option song={self.song!r} must be true or false")
        check_folds(self.folds)

    def _reason_unused(self, n: RavdessName, suffix: str) -> str | None:
        """Why a well-named file is not an AV row (None: it is one)."""
        if n.modality == "02":
            return "video-only (modality 02): no audio; the AV row of this take is its modality-01 mp4"
        if n.modality == "03":
            return "audio-only (modality 03): the AV row of this take takes its audio from the modality-01 mp4"
        if suffix != ".mp4":
            return f"modality 01 (audio-video) must be an .mp4, not {suffix}"
        if n.vocal == "02" and not self.song:
            return "song (vocal channel 02), excluded by default (importer option song=true includes songs)"
        if n.emotion == "02" and self.calm == "drop":
            return "calm (02) dropped by importer option calm=drop (calm=merge maps it to neutral, calm=keep to calm)"
        return None

    def scan(self, root: Path) -> ScanResult:
        """All modality-01 mp4s under ROOT as utterances; raise CorpusError if there is no RAVDESS file."""
        root = check_root(Path(root))
        skipped: list[Skip] = []
        takes: list[tuple[RavdessName, str]] = []
        seen: dict[str, str] = {}
        n_named = 0
        for f in files_with_suffix(root, [".mp4", ".wav"], recursive=True):
            path = rel(root, f)
            parsed = parse_name(f.stem)
            if isinstance(parsed, str):
                skipped.append(Skip(path, parsed))
                continue
            n_named += 1
            folder = _ACTOR_DIR.match(f.parent.name)
            if folder and int(folder.group(1)) != int(parsed.actor):
                skipped.append(Skip(path, f"actor {parsed.actor} in the name but the file is in {f.parent.name}/"))
                continue
            ident = f.name.lower()
            if ident in seen:
                skipped.append(Skip(path, f"duplicate of {seen[ident]} (same file name)"))
                continue
            seen[ident] = path
            reason = self._reason_unused(parsed, f.suffix.lower())
            if reason:
                skipped.append(Skip(path, reason))
            else:
                takes.append((parsed, path))
        if n_named == 0:
            raise CorpusError(f"{root} holds no RAVDESS file (Actor_XX/MM-VV-EE-II-SS-RR-AA.mp4, e.g. "
                              f"Actor_01/01-01-03-01-01-01-01.mp4); unzip the Video_Speech_Actor_XX.zip archives there")
        fold_of = speaker_folds((f"Actor_{n.actor}" for n, _ in takes), self.folds, self.name) if takes else {}
        utts = []
        for n, path in takes:
            label = "neutral" if n.emotion == "02" and self.calm == "merge" else LABELS[n.emotion]
            spk = f"Actor_{n.actor}"
            utts.append(Utterance(corpus=self.name, utterance_id=Path(path).stem, speaker=spk,
                                  corpus_label=n.emotion, label=label, split="all", fold=fold_of[spk],
                                  audio_path="", video_path=path))
        return apply_fold_file(ScanResult(corpus=self.name, utterances=utts, skipped=skipped), self.fold_file, root)


register_importer("ravdess")(RavdessImporter)
