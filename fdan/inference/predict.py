"""Class probabilities of a loaded model (:mod:`fdan.inference.model_file`) on media files.

Each item is featurised by the sweep's own code (``fdan.features.extract.extract_utterance`` with the
model file's FeatureConfig: same decoding, Mel, face crops, float16 log-Mel), then evaluated per head
as the sweep's held-out evaluation does: the fused head on both modalities, the audio head on the
audio alone, the face head on the faces alone. An audio-only item gives the audio head only; a
single-modality model gives its one head. One item at a time (batch of 1): a file that cannot be
decoded is a reported skip and never stops the others.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
import torch

from fdan.corpora.base import Utterance
from fdan.features.extract import extract_utterance
from fdan.features.mediafile import MediaError
from fdan.inference.media import MediaItem, MediaSkip
from fdan.inference.model_file import LoadedModel

# extract_utterance reads an Utterance; the label is not used for prediction (any canonical one will do)
_NO_LABEL = "neutral"


def _utterance(item: MediaItem) -> Utterance:
    return Utterance(corpus="predict", utterance_id=item.name, speaker="", corpus_label="", label=_NO_LABEL,
                     split="all", fold=-1, audio_path=str(item.audio.resolve()) if item.audio else "",
                     video_path=str(item.video.resolve()) if item.video else "")


@torch.no_grad()
def head_probabilities(loaded: LoadedModel, mel: torch.Tensor | None, mel_len: torch.Tensor | None,
                       faces: torch.Tensor | None, face_mask: torch.Tensor | None) -> dict[str, np.ndarray]:
    """{head: (B, C) softmax}: fused from both inputs, audio from ``mel`` alone, face from ``faces`` alone.

    ``mel`` (B, 1, n_mels, T) float16/32, ``faces`` (B, K, 3, S, S) uint8; either may be None."""
    model, mods = loaded.model.eval(), loaded.modalities
    mel = mel if "audio" in mods else None
    faces = faces if "face" in mods else None
    out: dict[str, np.ndarray] = {}
    if mel is not None and faces is not None:
        out["fused"] = torch.softmax(model(mel, faces, mel_len, face_mask).fused_logits.float(), 1).numpy()
    if mel is not None:
        out["audio"] = torch.softmax(model(mel, None, mel_len, None).audio_logits.float(), 1).numpy()
    if faces is not None:
        out["face"] = torch.softmax(model(None, faces, None, face_mask).face_logits.float(), 1).numpy()
    return out


def predict_media(loaded: LoadedModel, items: list[MediaItem],
                  progress: Callable[[int], None] | None = None) -> tuple[pd.DataFrame, list[MediaSkip]]:
    """One row per (item, head): ``file``, ``audio``, ``video``, ``head``, ``predicted``, ``prob_<label>``;
    and the items skipped (reason from the decoder, e.g. ``corrupt or unsupported container``)."""
    rows, skips = [], []
    for i, item in enumerate(items):
        try:
            ex = extract_utterance("/", _utterance(item), loaded.feature_config)
        except MediaError as exc:
            skips.append(MediaSkip(item.name, exc.reason))
            continue
        except Exception as exc:  # noqa: BLE001 - any other decoder failure is this file's problem, not the run's
            skips.append(MediaSkip(item.name, f"cannot be featurised ({type(exc).__name__}: {exc})"))
            continue
        mel = torch.from_numpy(ex.mel).unsqueeze(0)
        mel_len = torch.tensor([ex.mel_len], dtype=torch.int64)
        faces = None if item.audio_only else torch.from_numpy(ex.faces).unsqueeze(0)
        face_mask = None if item.audio_only else torch.from_numpy(ex.face_mask).unsqueeze(0)
        for head, prob in head_probabilities(loaded, mel, mel_len, faces, face_mask).items():
            rows.append({"file": item.name, "audio": str(item.audio or item.video), "video": str(item.video or ""),
                         "head": head, "predicted": loaded.labels[int(prob[0].argmax())],
                         **{f"prob_{label}": float(p) for label, p in zip(loaded.labels, prob[0])}})
        if progress:
            progress(i + 1)
    columns = ["file", "audio", "video", "head", "predicted", *(f"prob_{label}" for label in loaded.labels)]
    return pd.DataFrame(rows, columns=columns), skips
