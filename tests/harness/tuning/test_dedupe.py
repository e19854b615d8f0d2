"""No wasted trials: small all-choice spaces are enumerated once each; a repeated suggestion replays the original."""
from __future__ import annotations

import pytest
from ray.tune.search import Searcher
from ray.tune.search.optuna import OptunaSearch
from ray.tune.search.variant_generator import generate_variants

from harness.config import ExperimentConfig
from harness.config.search_space import Distribution, decode, tune_space
from harness.trial.entry import REUSE_KEY
from harness.tuning.dedupe import DedupSearcher, config_key, grid_size, grid_space
from harness.tuning.tuner import expected_trials, is_grid

SPACE = {"model.attn_heads": Distribution(type="choice", values=[2, 4]),
         "train.bandwidths": Distribution(type="choice", values=[None, [0.5, 1.0, 2.0]]),
         "train.lmmd_weight": Distribution(type="choice", values=[0.1, 0.3])}


def experiment(space: dict, num_samples: int) -> ExperimentConfig:
    return ExperimentConfig.model_validate({
        "name": "t", "corpora": {"a": {"importer": "synth", "root": "/nonexistent"}}, "pairs": {"within": ["a"]},
        "model": {"attn_dim": 16}, "search": {"num_samples": num_samples,
                                             "space": {k: d.model_dump() for k, d in space.items()}}})


def test_grid_size_counts_only_all_choice_spaces() -> None:
    assert grid_size(SPACE) == 8
    assert grid_size({**SPACE, "train.lr": Distribution(type="loguniform", low=1e-4, high=1e-2)}) is None
    assert grid_size({}) is None


def test_a_covered_space_is_enumerated_each_configuration_once() -> None:
    cfg = experiment(SPACE, num_samples=10)
    assert is_grid(cfg, search=True) and expected_trials(cfg, search=True) == 8
    variants = [spec for _, spec in generate_variants(grid_space(SPACE))]
    decoded = [decode(SPACE, v) for v in variants]
    assert len(decoded) == 8 and len({config_key(d) for d in decoded}) == 8
    assert {d["train.bandwidths"] is None for d in decoded} == {True, False}  # index-searched values decode


def test_a_larger_space_is_sampled_and_no_search_is_one_trial() -> None:
    cfg = experiment(SPACE, num_samples=4)
    assert not is_grid(cfg, search=True) and expected_trials(cfg, search=True) == 4
    assert expected_trials(cfg, search=False) == 1


class Scripted(Searcher):
    """An inner searcher proposing a fixed list of configurations (to make repeats certain)."""

    def __init__(self, configs: list[dict]) -> None:
        super().__init__(metric="score", mode="max")
        self.configs = list(configs)
        self.told: dict[str, float | None] = {}

    def suggest(self, trial_id: str):
        return self.configs.pop(0) if self.configs else Searcher.FINISHED

    def on_trial_complete(self, trial_id: str, result=None, error: bool = False) -> None:
        self.told[trial_id] = None if error else result["score"]


def report(epoch: int, score: float) -> dict:
    return {"epoch": epoch, "val_fused_uar": score, "train_loss": 1.0 / epoch, "sel_dev": -score, "config": {"x": 1},
            "time_total_s": 3.0, "training_iteration": epoch}


def test_a_repeat_waits_for_its_original_then_replays_it() -> None:
    inner = Scripted([{"a": 1}, {"a": 2}, {"a": 1}, {"a": 3}])
    s = DedupSearcher(inner)
    assert s.suggest("t1") == {"a": 1}
    assert s.suggest("t2") == {"a": 2}
    assert s.suggest("t3") is None  # {"a": 1} again while t1 is still running: held, nothing starts
    assert s.suggest("t4") == {"a": 3}
    for epoch in (1, 2):
        s.on_trial_result("t1", report(epoch, 0.1 * epoch))
    s.on_trial_complete("t1", {"score": 0.2, **report(2, 0.2)})
    released = s.suggest("t5")
    assert released[REUSE_KEY]["trial_id"] == "t1" and released["a"] == 1
    # the rules' scores too: a replay under a primary rule other than source_val reports the metric Tune sorts by
    assert released[REUSE_KEY]["history"] == [{"epoch": 1, "val_fused_uar": 0.1, "train_loss": 1.0, "sel_dev": -0.1},
                                              {"epoch": 2, "val_fused_uar": 0.2, "train_loss": 0.5, "sel_dev": -0.2}]
    s.on_trial_complete("t5", {"score": 0.2})
    assert inner.told == {"t1": 0.2, "t3": 0.2}  # the inner searcher hears of the repeat under its own id
    assert s.suggest("t6") == Searcher.FINISHED and s.repeats == 1


def test_a_repeat_of_an_errored_trial_is_trained() -> None:
    s = DedupSearcher(Scripted([{"a": 1}, {"a": 1}]))
    s.suggest("t1")
    s.on_trial_complete("t1", error=True)
    assert s.suggest("t2") == {"a": 1}  # no REUSE_KEY: it trains


def test_optuna_repeats_on_a_small_space_are_never_trained_twice() -> None:
    space = {"model.attn_heads": Distribution(type="choice", values=[2, 4]),
             "train.lmmd_weight": Distribution(type="choice", values=[0.1, 0.3])}
    s = DedupSearcher(OptunaSearch(seed=0))
    s.set_search_properties("val_fused_uar", "max", tune_space(space))
    trained, replayed = [], 0
    for i in range(12):
        tid = f"t{i}"
        config = s.suggest(tid)
        assert config is not None  # every trial finishes before the next is asked for: nothing is held
        if REUSE_KEY in config:
            replayed += 1
        else:
            trained.append(config_key(config))
        s.on_trial_result(tid, report(1, 0.5))
        s.on_trial_complete(tid, {"val_fused_uar": 0.5, **report(1, 0.5)})
    assert len(trained) == len(set(trained)) <= 4
    assert replayed == 12 - len(trained) > 0


@pytest.mark.parametrize("params", [{"a": 1, "b": [0.5, 1.0]}, {"b": [0.5, 1.0], "a": 1}])
def test_config_key_ignores_order_and_the_reuse_marker(params: dict) -> None:
    assert config_key(params) == config_key({"a": 1, "b": [0.5, 1.0], REUSE_KEY: {"trial_id": "x"}})
