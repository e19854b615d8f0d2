"""The `savee` importer: SAVEE (Surrey Audio-Visual Expressed Emotion) in its release layout.

ROOT holds `AudioData/<SPK>/<code><NN>.wav` (44.1 kHz) and `AudioVisualClip/<SPK>/<code><NN>.avi`
for the speakers DC, JE, JK, KL (folder names compared case-insensitively; other folders of the
release such as `VisualData/` are not read; `AudioVisualClip/AudioVisualClip/DC/`, a zip unpacked
into a folder of its own name, is read like `AudioVisualClip/DC/`). `NN` may be zero-padded or not
(`a01` = `a1`). An utterance is the pair wav + avi with the same speaker, code and number: the
face comes from the avi, the audio from the clean wav. Codes: a anger, d disgust, f fear,
h happiness, n neutral, sa sadness, su surprise (`corpus_label` keeps the code).

Skipped with a reason: a name that is not `<code><NN>`, an unknown code, a wav without its avi or an
avi without its wav, a second file for the same utterance, media in a folder that is not a SAVEE
speaker or directly in AudioData/ or AudioVisualClip/. There is no official split: split "all",
fold = speaker index in sorted order over the speakers present (DC 0, JE 1, JK 2, KL 3 for the full
corpus), i.e. leave-one-speaker-out.
No options.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from fdan.corpora.base import CorpusError, ScanResult, Skip, Utterance, check_root, register_importer
from fdan.corpora.fold_file import apply_fold_file
from fdan.corpora.native import files_with_suffix, find_dir, nested_hint, rel

SPEAKERS = ("DC", "JE", "JK", "KL")
LABELS = {"a": "anger", "d": "disgust", "f": "fear", "h": "happiness", "n": "neutral",
          "sa": "sadness", "su": "surprise"}
_NAME = re.compile(r"^([a-z]+)(\d+)$", re.IGNORECASE)

Key = tuple[str, str, int]  # (speaker, code, number)


def unnest(folder: Path | None) -> Path | None:
    """`AudioVisualClip/AudioVisualClip/` (a zip unpacked into a folder of its own name, as Windows'
    "Extract All" does) -> the inner folder, when the outer one holds no speaker folder."""
    if folder is None or any(find_dir(folder, spk) for spk in SPEAKERS):
        return folder
    return find_dir(folder, folder.name) or folder


def parse_name(stem: str) -> tuple[str, int] | str:
    """`sa03` -> ("sa", 3); a str is the reason the stem is not a SAVEE utterance name."""
    m = _NAME.match(stem)
    if not m:
        return f"not a SAVEE utterance name (<code><NN>, code one of {', '.join(LABELS)})"
    code = m.group(1).lower()
    if code not in LABELS:
        return f"unknown SAVEE emotion code {m.group(1)!r} (one of {', '.join(LABELS)})"
    return code, int(m.group(2))


@dataclass
class SaveeImporter:
    """SAVEE wav + avi pairs; leave-one-speaker-out folds (module docstring)."""

    name = "savee"  # class attribute, not an option
    fold_file: str = ""  # folds from a file (fdan.corpora.fold_file), e.g. EmoBox's partition

    def _collect(self, root: Path, folder: Path | None, suffix: str,
                 skipped: list[Skip]) -> dict[Key, str]:
        """(speaker, code, number) -> relative path of every usable `suffix` file under `folder`."""
        found: dict[Key, str] = {}
        if folder is None:
            return found
        skipped.extend(Skip(rel(root, f), f"not in a speaker folder ({folder.name}/<SPK>/)")
                       for f in files_with_suffix(folder, [suffix]))
        for spk_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
            spk = spk_dir.name.upper()
            if spk not in SPEAKERS:  # listed with its sub-folders, so no file is silently lost
                files = files_with_suffix(spk_dir, [suffix], recursive=True)
                skipped.extend(Skip(rel(root, f), f"folder {spk_dir.name!r} is not a SAVEE speaker "
                                                  f"({', '.join(SPEAKERS)})") for f in files)
                continue
            for f in files_with_suffix(spk_dir, [suffix]):
                parsed = parse_name(f.stem)
                if isinstance(parsed, str):
                    skipped.append(Skip(rel(root, f), parsed))
                    continue
                key = (spk, *parsed)
                if key in found:
                    skipped.append(Skip(rel(root, f), f"duplicate of {found[key]} (same utterance)"))
                    continue
                found[key] = rel(root, f)
        return found

    def scan(self, root: Path) -> ScanResult:
        """Pair AudioData wavs with AudioVisualClip avis; raise CorpusError if ROOT has neither folder."""
        root = check_root(Path(root))
        audio_dir, video_dir = unnest(find_dir(root, "AudioData")), unnest(find_dir(root, "AudioVisualClip"))
        if audio_dir is None and video_dir is None:
            raise CorpusError(f"{root} is not a SAVEE release: expected AudioData/<SPK>/*.wav and "
                              f"AudioVisualClip/<SPK>/*.avi directly under it"
                              + nested_hint(root, lambda n: n.lower() in ("audiodata", "audiovisualclip")))
        skipped: list[Skip] = []
        if audio_dir is None or video_dir is None:
            missing = "AudioData" if audio_dir is None else "AudioVisualClip"
            skipped.append(Skip(missing, f"folder {missing}/ is missing: every clip lacks its "
                                         f"{'audio' if audio_dir is None else 'video'} partner"))
        wavs = self._collect(root, audio_dir, ".wav", skipped)
        avis = self._collect(root, video_dir, ".avi", skipped)
        for key in sorted(set(wavs) - set(avis)):
            skipped.append(Skip(wavs[key], "no video partner in AudioVisualClip/ (same speaker, code, number)"))
        for key in sorted(set(avis) - set(wavs)):
            skipped.append(Skip(avis[key], "no audio partner in AudioData/ (same speaker, code, number)"))
        paired = sorted(set(wavs) & set(avis))
        speakers = sorted({spk for spk, _, _ in paired})
        fold_of = {spk: i for i, spk in enumerate(speakers)}
        utts = [Utterance(corpus=self.name, utterance_id=f"{spk}_{code}{num:02d}", speaker=spk,
                          corpus_label=code, label=LABELS[code], split="all", fold=fold_of[spk],
                          audio_path=wavs[(spk, code, num)], video_path=avis[(spk, code, num)])
                for spk, code, num in paired]
        return apply_fold_file(ScanResult(corpus=self.name, utterances=utts, skipped=skipped), self.fold_file, root)


register_importer("savee")(SaveeImporter)
