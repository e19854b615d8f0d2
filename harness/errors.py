"""Why a run stops: bad input (`InputError`: the CLI exits 2), a clash or bad input of the sweep itself
(`SweepError`), a unit with no usable trial (`SweepFailed`), an interruption that `--resume` continues
(`SweepInterrupted`). A leaf module: every layer of the harness may raise these."""
from __future__ import annotations


class InputError(Exception):
    """Input the user fixes (a config, a corpus root, a cluster address, a results directory, resources): its
    message says what and how. The CLI catches this one base class, prints the message and exits with 2."""


class SweepError(InputError, RuntimeError):
    """A sweep that cannot start or continue; the message says why and what to do."""


class SweepFailed(RuntimeError):
    """Every trial of a unit failed; the message carries the first error."""


class SweepInterrupted(RuntimeError):
    """Tune stopped before every trial finished (e.g. Ctrl+C); `--resume` continues it."""


class SweepStalled(SweepFailed):
    """A trial made no progress for `resources.progress_timeout_s` (lost node, resources that never came)."""
