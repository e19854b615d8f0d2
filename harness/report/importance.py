"""Hyper-parameter importance from a trials table, via an in-memory Optuna study and fANOVA.

The sweep's own Optuna study lives inside Ray Tune's searcher; rebuilding one from ``trials`` keeps the
report independent of Ray and lets ``fdan-bench report`` recompute importances from saved files alone.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pydantic import ValidationError

from harness.config.search_space import Distribution, param_name
from harness.results.columns import NOT_SEARCHED, PARAM_PREFIX
from harness.results.errors import ResultsError

FAILED_STATUSES = {"error", "errored", "failed", "fail"}


@dataclass
class Importance:
    """Normalised importances (sum 1, largest first) or, when they cannot be computed, a note saying why."""

    values: dict[str, float] = field(default_factory=dict)
    note: str | None = None
    n_trials: int = 0


def searched_params(trials: pd.DataFrame) -> list[str]:
    """Names of the searched hyper-parameters: the ``param_<name>`` columns, in table order."""
    return [c[len(PARAM_PREFIX):] for c in trials.columns if c.startswith(PARAM_PREFIX)]


def param_values(trials: pd.DataFrame, name: str) -> pd.Series:
    """The ``param_<name>`` column; in a non-numeric column a missing value is the choice ``"None"``
    (a ``null`` search choice), in a numeric one it stays missing (the parameter was not sampled). Trials of a
    unit that did not search it (``not_searched``: its training never reads it) are missing either way."""
    values = trials[PARAM_PREFIX + name]
    if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
        values = values.astype(object).where(values.notna(), "None")
    return values.mask(~searched_in(trials, name))


def searched_in(trials: pd.DataFrame, name: str) -> pd.Series:
    """Per trial: whether its unit searched ``name`` (harness.experiment.plan.unit_config leaves out, and the
    trials column ``not_searched`` names, the fields a unit's training never reads; tables before it: all)."""
    if NOT_SEARCHED not in trials:
        return pd.Series(True, index=trials.index)
    return ~trials[NOT_SEARCHED].fillna("").astype(str).str.split("|").map(lambda names: name in names)


def complete_trials(trials: pd.DataFrame, metric_col: str) -> pd.DataFrame:
    """Trials with a finite ``metric_col`` whose status is not a failure."""
    if metric_col not in trials:
        return trials.iloc[0:0]
    ok = pd.Series(np.isfinite(pd.to_numeric(trials[metric_col], errors="coerce").astype(float)), index=trials.index)
    if "status" in trials:
        ok &= ~trials["status"].astype(str).str.strip().str.lower().isin(FAILED_STATUSES)
    return trials[ok]


def searched_distributions(config: dict | None) -> dict[str, Distribution]:
    """The run's search space by trials-column name (``param_<name>``), from the resolved config's
    ``search.space`` section (dotted field -> distribution); empty when the config has none."""
    space = ((config or {}).get("search") or {}).get("space") or {}
    try:
        return {param_name(dotted): Distribution.model_validate(d) for dotted, d in space.items()}
    except (ValidationError, AttributeError, TypeError) as exc:
        raise ResultsError(f"config search.space is not a valid search space: {exc}") from exc


def optuna_distribution(dist: Distribution):
    """The Optuna distribution a searched entry was sampled from, over the values the trials table stores:
    choices as stored (a non-scalar choice as its text, ``null`` as ``"None"``), ``randint``'s exclusive
    upper bound made inclusive, ``loguniform`` in log space."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if dist.type == "choice":
        return CategoricalDistribution(list(dict.fromkeys(_choice(v) for v in dist.values or [])))
    if dist.type == "randint":
        return IntDistribution(int(dist.low), int(dist.high) - 1)
    return FloatDistribution(float(dist.low), float(dist.high), log=dist.type == "loguniform")


def _choice(v):
    if v is None:
        return "None"
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, float, str)) and not isinstance(v, np.generic):
        return v
    return v.item() if isinstance(v, np.generic) else str(v)


def _param_value(dist, v):
    from optuna.distributions import CategoricalDistribution, IntDistribution

    if isinstance(dist, CategoricalDistribution):
        return _choice(v)
    return int(round(float(v))) if isinstance(dist, IntDistribution) else float(v)


def param_importances(
    trials: pd.DataFrame, metric_col: str, space: dict[str, Distribution], *, maximize: bool = True, seed: int = 0
) -> Importance:
    """fANOVA importance of each varying ``param_*`` column for ``metric_col`` over the complete trials.

    ``space`` (:func:`searched_distributions`) gives each parameter the distribution it was sampled from.
    Needs at least two complete trials, at least one searched parameter that varies and a metric that
    varies; otherwise returns an :class:`Importance` with a note and no values. Trials of all pairs and
    folds are pooled into one study; trials of units that left a field out (``not_searched``) are not in it.
    """
    import optuna
    from optuna.trial import create_trial

    done = complete_trials(trials, metric_col)
    every = [searched_in(done, p) for p in searched_params(done)]
    done = done[pd.concat(every, axis=1).all(axis=1)] if every else done  # trials of units that searched the whole space
    n = len(done)
    if n < 2:
        return Importance(note=f"not enough trials for parameter importance: {n} complete trial(s), need at least 2",
                          n_trials=n)
    columns = {p: param_values(done, p) for p in searched_params(done)}
    params = [p for p, v in columns.items() if v.dropna().nunique() > 1]
    if not params:
        return Importance(note="not enough variation for parameter importance: every searched parameter is "
                               "constant (or absent) over the complete trials", n_trials=n)
    unknown = [p for p in params if p not in space]
    if unknown:
        return Importance(note=f"parameter importance needs the searched distributions: {', '.join(unknown)} "
                               "not in the config's search.space", n_trials=n)
    metric = pd.to_numeric(done[metric_col]).astype(float)
    if metric.nunique() < 2:
        return Importance(note=f"parameter importance undefined: {metric_col} is the same for every complete trial",
                          n_trials=n)
    dists = {p: optuna_distribution(space[p]) for p in params}
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.create_study(direction="maximize" if maximize else "minimize")
        for i, value in enumerate(metric):
            present = {p: columns[p].iloc[i] for p in params if not pd.isna(columns[p].iloc[i])}
            study.add_trial(create_trial(
                value=float(value),
                params={p: _param_value(dists[p], v) for p, v in present.items()},
                distributions={p: dists[p] for p in present},
            ))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
            raw = optuna.importance.get_param_importances(study, evaluator=evaluator)
    except (ValueError, RuntimeError, ZeroDivisionError) as exc:
        return Importance(note=f"parameter importance could not be computed: {exc}", n_trials=n)
    finally:
        optuna.logging.set_verbosity(previous)
    values = {k: float(v) for k, v in sorted(raw.items(), key=lambda kv: -float(kv[1]))}
    if not values:
        return Importance(note="parameter importance: no parameter is shared by all complete trials", n_trials=n)
    return Importance(values=values, n_trials=n)
