"""Whether a training run reads the target corpus at all (no hidden adaptation).

A run reads unlabelled target-corpus batches only when it has a corpus alignment term: ``train.method``'s
corpus counterpart (:func:`fdan.alignment.methods.corpus_method_name`) has a loss term (not ``source_only`` or
``adabn``; adabn reads target rows only after training, for BatchNorm statistics: :func:`uses_target_statistics`) and
``cross_corpus_lmmd_weight > 0``. Every other run — ``source_only``, single-modality baselines, a
corpus weight of 0 — never iterates a target loader: a target batch sent through a network in training
mode would update its BatchNorm running statistics with target rows (that is AdaBN, an adaptation
method, not "no adaptation").

Runs that do read target batches: the target batch goes through the network in training mode under
``dropout_disabled`` (fdan.training.loss.compute_loss), so BatchNorm layers normalise it with its **own batch
statistics** and fold them into their running statistics (momentum update, after the source batch's);
the token standardisation of target rows uses the source's running statistics
(fdan.model.tokenizers.source_standardisation). Evaluation uses the running statistics (a mix of source
and target batches for these methods; source only for the others).
"""
from __future__ import annotations

from fdan.config import TrainConfig
from fdan.alignment.methods import corpus_method_name, method_class


def reads_target(cfg: TrainConfig) -> bool:
    """True when ``cfg``'s run has a corpus alignment term and so draws target batches (module docstring)."""
    return method_class(corpus_method_name(cfg.method)).has_term and cfg.cross_corpus_lmmd_weight > 0


def uses_target_statistics(cfg: TrainConfig) -> bool:
    """True for a method that re-estimates BatchNorm statistics on the target corpus before evaluating on it
    (``adabn``: fdan.training.target_statistics); its training reads no target batch."""
    return method_class(corpus_method_name(cfg.method)).target_statistics
