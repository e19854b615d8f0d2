"""Validation speakers carved from a corpus's training part: how many, and in which groups.

- **How many** (``protocol.val_speakers``, default 2): at most ``n − 2`` of the ``n`` available speakers
  and at least 1, so that two speakers always remain to train on where the corpus has them (SAVEE
  leave-one-speaker-out: 3 speakers left → 1 validates, 2 train; a larger corpus gives 2). The unit
  records which speakers validate, so the leaderboard can say how many trained.
- **Which groups**: speakers who share recordings validate together. IEMOCAP's sessions are dialogues
  between two actors recorded on the same video; validating on one actor of a session while the other
  trains leaks the dialogue. For such corpora (:data:`SESSION_FOLD_CORPORA`: their ``fold`` is the
  session) validation takes whole sessions — ``ceil(val_speakers / speakers per session)`` of them,
  rotating with the unit's fold.
"""
from __future__ import annotations

import math

import pandas as pd

SESSION_FOLD_CORPORA = frozenset({"iemocap"})  # manifest `fold` = recording session (fdan.corpora.iemocap)


class ValidationSplitError(ValueError):
    """Too few speakers to validate on one and train on another."""


def _groups(frame: pd.DataFrame) -> pd.Series:
    """The validation group of every row: its session for session corpora, else its speaker."""
    speaker = frame["speaker"].astype(str)
    if "corpus" in frame and frame["corpus"].astype(str).str.lower().isin(SESSION_FOLD_CORPORA).all() \
            and (frame["fold"] >= 0).all():
        return "session" + frame["fold"].astype(int).astype(str)
    return speaker


def carve_validation(frame: pd.DataFrame, val_speakers: int, rotate: int,
                     what: str) -> tuple[pd.DataFrame, pd.DataFrame, tuple[str, ...]]:
    """``(train, val, validation speakers)`` of ``frame`` (module docstring)."""
    groups = _groups(frame)
    names = sorted(groups.unique())
    speakers = frame["speaker"].astype(str)
    n_speakers = speakers.nunique()
    if n_speakers < 2 or len(names) < 2:
        raise ValidationSplitError(f"{what}: {n_speakers} training speaker(s) in {len(names)} group(s) cannot give a "
                                   "validation speaker and keep one for training")
    if len(names) == n_speakers:  # one speaker per group
        count = max(1, min(val_speakers, n_speakers - 2))
    else:  # whole sessions: enough of them for val_speakers, leaving one to train
        per_group = n_speakers / len(names)
        count = max(1, min(math.ceil(val_speakers / per_group), len(names) - 1))
    start = rotate % len(names)
    chosen = set((names + names)[start:start + count])
    is_val = groups.isin(chosen)
    return frame[~is_val], frame[is_val], tuple(sorted(speakers[is_val].unique()))
