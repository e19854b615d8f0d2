"""Why a run stops: a clash or bad input (`SweepError`), a unit with no usable trial (`SweepFailed`),
an interruption that `--resume` continues (`SweepInterrupted`)."""
from __future__ import annotations


class SweepError(RuntimeError):
    """A sweep that cannot start or continue; the message says why and what to do."""


class SweepFailed(RuntimeError):
    """Every trial of a unit failed; the message carries the first error."""


class SweepInterrupted(RuntimeError):
    """Tune stopped before every trial finished (e.g. Ctrl+C); `--resume` continues it."""


class SweepStalled(SweepFailed):
    """A trial made no progress for `resources.progress_timeout_s` (lost node, resources that never came)."""
