"""Speaker-cluster bootstrap of WAR / UAR and of their difference between two systems, seeds combined.

The unit of resampling is the **test speaker** (a cluster): every one of its rows, under every seed, moves
together. A system's predictions for one set of ``n`` test rows are a ``(S, n)`` boolean matrix ``correct``
(one row per training seed; two systems may have different numbers of seeds). Rows belong to a speaker
``k ∈ {0..K−1}`` and to a stratum ``g`` (a corpus pair; one stratum for a single pair).

Per draw ``b``: within each stratum draw its ``K_g`` speakers with replacement (multiplicities
``W[b, k]``), then for each seed ``s``

    hits[b, s, c]    = Σ_k W[b, k] · hits_k[s, c]        support[b, c] = Σ_k W[b, k] · support_k[c]
    WAR[b, s, g]     = Σ_c hits / Σ_c support             UAR[b, s, g]  = mean_{c: support > 0} hits / support

and the system's value is the mean over seeds, then over strata: ``M[b] = mean_g mean_s M[b, s, g]``
(the combined test across seeds: every seed's predictions are kept; seed-to-seed spread enters through
the seed mean). For two systems ``Δ[b] = M_b[b] − M_a[b]`` on the same draws (paired).

With few clusters the bootstrap spread under-states the sampling spread (by ``(K − 1)/K`` in variance, and
percentile intervals ignore that ``se`` itself is estimated; measured: 14 % false positives at K = 6
speakers, 7 % at K = 16). So the bootstrap supplies the **standard error** and a t reference supplies the
tails:

    se = sd(Δ*) · sqrt(K / (K − G)),   df = K − G   (K speakers, G strata)
    p  = 2 · P(T_df ≥ |Δ| / se),       interval  Δ ± t_{df, 1−α/2} · se

(measured null false-positive rate 5.5 % / 3.8 % / 4.5 % at K = 6 / 16 / 40). ``df < 1`` (one speaker per
stratum) gives NaN: no speaker-level uncertainty can be estimated.

The i.i.d. bootstrap over rows is the special case where every row is its own speaker
(:func:`rows_as_clusters`), which is how the tests show what clustering changes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

_CHUNK = 512  # draws evaluated at once


@dataclass(frozen=True)
class ClusteredRows:
    """Test rows coded for the bootstrap: ``y`` ``(n,)`` class codes in ``0..C−1``, ``speaker`` ``(n,)`` codes in
    ``0..K−1``, ``stratum`` ``(K,)`` the stratum code of each speaker (a speaker belongs to one stratum)."""

    y: np.ndarray
    speaker: np.ndarray
    stratum: np.ndarray
    num_classes: int

    @property
    def n_speakers(self) -> int:
        return len(self.stratum)


def cluster_rows(y: np.ndarray, speaker: np.ndarray, stratum: np.ndarray | None = None) -> ClusteredRows:
    """Code labels, speakers and strata (any hashable values, one per row). A speaker id in two strata is two
    clusters (speakers of different corpus pairs are different people)."""
    y, speaker = np.asarray(y).ravel(), np.asarray(speaker).ravel()
    stratum = np.zeros(len(y), dtype=int) if stratum is None else np.asarray(stratum).ravel()
    if not len(y) == len(speaker) == len(stratum):
        raise ValueError(f"y, speaker and stratum differ in length: {len(y)}, {len(speaker)}, {len(stratum)}")
    if len(y) == 0:
        raise ValueError("no rows to resample")
    _, y_codes = np.unique(y.astype(str), return_inverse=True)
    _, g_codes = np.unique(stratum.astype(str), return_inverse=True)
    keys = np.char.add(np.char.add(g_codes.astype(str), "\x1f"), speaker.astype(str))
    _, first, k_codes = np.unique(keys, return_index=True, return_inverse=True)
    return ClusteredRows(y=y_codes, speaker=k_codes, stratum=g_codes[first], num_classes=int(y_codes.max()) + 1)


def rows_as_clusters(rows: ClusteredRows) -> ClusteredRows:
    """The same rows with every row its own cluster: the i.i.d. row bootstrap (within strata)."""
    n = len(rows.y)
    return ClusteredRows(y=rows.y, speaker=np.arange(n), stratum=rows.stratum[rows.speaker], num_classes=rows.num_classes)


def _per_speaker(rows: ClusteredRows, correct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``support_k`` ``(K, C)`` and ``hits_k`` ``(S, K, C)`` of a ``(S, n)`` correctness matrix."""
    k, c = rows.n_speakers, rows.num_classes
    flat = rows.speaker * c + rows.y
    support = np.bincount(flat, minlength=k * c).reshape(k, c).astype(np.float64)
    hits = np.stack([np.bincount(flat, weights=row.astype(np.float64), minlength=k * c).reshape(k, c) for row in correct])
    return support, hits


def _draw_weights(rows: ClusteredRows, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_draws, K)`` speaker multiplicities: within each stratum ``K_g`` speakers drawn with replacement."""
    weights = np.zeros((n_draws, rows.n_speakers))
    for g in np.unique(rows.stratum):
        members = np.flatnonzero(rows.stratum == g)
        picks = rng.integers(0, len(members), size=(n_draws, len(members)))
        np.add.at(weights, (np.arange(n_draws)[:, None], members[picks]), 1.0)
    return weights


def _metric(rows: ClusteredRows, weights: np.ndarray, support: np.ndarray, hits: np.ndarray) -> dict[str, np.ndarray]:
    """WAR and UAR ``(D,)`` of speaker-weighted draws, averaged over seeds then strata."""
    strata = np.unique(rows.stratum)
    war = np.zeros(len(weights))
    uar = np.zeros(len(weights))
    for g in strata:
        w = weights * (rows.stratum == g)[None, :]
        sup = w @ support  # (D, C)
        hit = np.einsum("dk,skc->dsc", w, hits)  # (D, S, C)
        war += (hit.sum(axis=2) / sup.sum(axis=1, keepdims=True)).mean(axis=1)
        present = sup > 0
        recall = np.divide(hit, sup[:, None, :], out=np.zeros_like(hit), where=present[:, None, :])
        uar += (recall.sum(axis=2) / present.sum(axis=1, keepdims=True)).mean(axis=1)
    return {"war": war / len(strata), "uar": uar / len(strata)}


def _as_matrix(correct: np.ndarray, n: int) -> np.ndarray:
    correct = np.atleast_2d(np.asarray(correct, dtype=bool))
    if correct.shape[1] != n:
        raise ValueError(f"correctness matrix has {correct.shape[1]} rows per seed, the test set {n}")
    return correct


def bootstrap_difference(rows: ClusteredRows, correct_a: np.ndarray, correct_b: np.ndarray, *, n_boot: int = 2000,
                         seed: int = 0, alpha: float = 0.05) -> dict[str, dict[str, float]]:
    """Speaker-cluster bootstrap of ``M(b) − M(a)`` (positive: b is better) for M ∈ {WAR, UAR}.

    Args:
        correct_a, correct_b: ``(S_a, n)`` / ``(S_b, n)`` — whether each seed of each system got each row right.

    Returns:
        ``{"war": {...}, "uar": {...}}`` with ``delta`` (on the observed data), ``ci_low``, ``ci_high``, ``p``.
    """
    if n_boot < 1 or not 0 < alpha < 1:
        raise ValueError(f"need n_boot >= 1 and 0 < alpha < 1, got {n_boot}, {alpha}")
    n = len(rows.y)
    sup, hits_a = _per_speaker(rows, _as_matrix(correct_a, n))
    _, hits_b = _per_speaker(rows, _as_matrix(correct_b, n))
    ones = np.ones((1, rows.n_speakers))
    obs_a, obs_b = _metric(rows, ones, sup, hits_a), _metric(rows, ones, sup, hits_b)
    rng = np.random.default_rng(seed)
    draws: dict[str, list[np.ndarray]] = {"war": [], "uar": []}
    for start in range(0, n_boot, _CHUNK):
        w = _draw_weights(rows, min(_CHUNK, n_boot - start), rng)
        ma, mb = _metric(rows, w, sup, hits_a), _metric(rows, w, sup, hits_b)
        for m in draws:
            draws[m].append(mb[m] - ma[m])
    out = {}
    for m, parts in draws.items():
        delta = float(obs_b[m][0] - obs_a[m][0])
        se, q = _se_and_quantile(rows, np.concatenate(parts), alpha)
        if np.isnan(se):
            p = float("nan")
        elif se == 0:
            p = 1.0 if delta == 0 else 0.0
        else:
            p = float(2 * stats.t.sf(abs(delta) / se, _df(rows)))
        out[m] = {"delta": delta, "ci_low": float(np.clip(delta - q * se, -1, 1)),
                  "ci_high": float(np.clip(delta + q * se, -1, 1)), "p": p}
    return out


def _df(rows: ClusteredRows) -> int:
    return rows.n_speakers - len(np.unique(rows.stratum))


def _se_and_quantile(rows: ClusteredRows, draws: np.ndarray, alpha: float) -> tuple[float, float]:
    """Small-sample-corrected bootstrap standard error and the t quantile; NaN where ``df < 1``."""
    df, k = _df(rows), rows.n_speakers
    if df < 1 or len(draws) < 2:
        return float("nan"), float("nan")
    return float(draws.std(ddof=1) * np.sqrt(k / df)), float(stats.t.ppf(1 - alpha / 2, df))


def bootstrap_interval(rows: ClusteredRows, correct: np.ndarray, *, n_boot: int = 2000, seed: int = 0,
                       alpha: float = 0.05) -> dict[str, tuple[float, float]]:
    """``1 − alpha`` speaker-bootstrap interval ``M ± t · se`` (as above, clipped to [0, 1]) of one system's WAR
    and UAR, seeds averaged; NaN bounds where ``df < 1``."""
    sup, hits = _per_speaker(rows, _as_matrix(correct, len(rows.y)))
    observed = _metric(rows, np.ones((1, rows.n_speakers)), sup, hits)
    rng = np.random.default_rng(seed)
    draws: dict[str, list[np.ndarray]] = {"war": [], "uar": []}
    for start in range(0, n_boot, _CHUNK):
        values = _metric(rows, _draw_weights(rows, min(_CHUNK, n_boot - start), rng), sup, hits)
        for m in draws:
            draws[m].append(values[m])
    out = {}
    for m, parts in draws.items():
        se, q = _se_and_quantile(rows, np.concatenate(parts), alpha)
        value = float(observed[m][0])
        out[m] = (max(0.0, value - q * se), min(1.0, value + q * se)) if not np.isnan(se) else (float("nan"),) * 2
    return out
