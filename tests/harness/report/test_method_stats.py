"""Method-level comparison table: columns, seeds combined, overall rows, Holm, row-mismatch errors, the CLI."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.report.method_stats import STATS_COLUMNS, method_stats
from harness.report.paired import load_systems
from harness.results.errors import ResultsError
from harness.results.io import write_results
from harness.results.predictions import write_predictions

from ..results_data import make_inputs


def predictions(rate: float, pair: str = "a->b", seeds=(0,), speakers: int = 8, per: int = 10,
                rng_seed: int = 0) -> pd.DataFrame:
    """Cross-corpus predictions: `speakers` target speakers over 2 folds, right with probability `rate`."""
    rng = np.random.default_rng(rng_seed)
    rows = []
    src, tgt = pair.split("->")
    for seed in seeds:
        for k in range(speakers):
            for i in range(per):
                label = ["anger", "sadness"][i % 2]
                ok = rng.random() < rate
                rows.append({"experiment": "x", "pair": pair, "source": src, "target": tgt, "fold": k % 2,
                             "variant": "", "trial_id": "t", "method": "m", "utterance_id": f"s{k}u{i}",
                             "speaker": f"s{k}", "label": label, "head": "fused", "seed": seed,
                             "predicted": label if ok else ("sadness" if label == "anger" else "anger"),
                             "prob_anger": 0.5, "prob_sadness": 0.5})
    return pd.DataFrame(rows)


def test_table_has_the_agreed_columns_and_holm_over_all_rows():
    base = pd.concat([predictions(0.5, "a->b"), predictions(0.5, "a->c")])
    good = pd.concat([predictions(0.9, "a->b", rng_seed=1), predictions(0.9, "a->c", rng_seed=2)])
    table, skipped = method_stats({"base": base, "good": good}, n_boot=300)
    assert tuple(table.columns) == STATS_COLUMNS and not skipped
    assert list(table["pair"]) == ["a->b", "a->b", "a->c", "a->c", "overall (cross)", "overall (cross)"]
    row = table[(table["pair"] == "overall (cross)") & (table["metric"] == "war")].iloc[0]
    assert (row["n_rows"], row["n_speakers"]) == (160, 16)
    assert row["delta"] > 0.2 and row["ci_low"] > 0 and row["p"] < 0.01
    assert (table["p_holm"] >= table["p"]).all() and table["p_holm"].max() <= 1


def test_oracle_units_pool_apart_from_the_within_corpus_pairs():
    """pairs.oracle units (source == target, pair `... (oracle)`) are a ceiling, not within-corpus results."""
    def oracle(rate, target, rng_seed):
        frame = predictions(rate, f"{target}->{target}", rng_seed=rng_seed)
        return frame.assign(pair=f"a→{target} (oracle)")

    base = pd.concat([predictions(0.5, "a->a"), predictions(0.5, "b->b", rng_seed=3), oracle(0.5, "b", 4), oracle(0.5, "c", 5)])
    other = pd.concat([predictions(0.6, "a->a", rng_seed=1), predictions(0.6, "b->b", rng_seed=6),
                       oracle(0.6, "b", 7), oracle(0.6, "c", 8)])
    table, _ = method_stats({"base": base, "other": other}, n_boot=100)
    overall = table[table["pair"].str.startswith("overall")]
    assert set(overall["pair"]) == {"overall (within)", "overall (oracle)"}
    assert set(overall["n_rows"]) == {160}  # two pairs of 80 rows each, never the four pooled


def test_pairs_only_one_system_predicted_are_named_in_one_skip_per_system():
    """`pairs.oracle: [source_only]`: the oracle pairs exist for the baseline only; each other system gets one skip
    naming them, and its common pairs are compared."""
    base = pd.concat([predictions(0.5, "a->b"), predictions(0.5, "a->c", rng_seed=3),
                      predictions(0.6, "b->b", rng_seed=4).assign(pair="a→b (oracle)")])
    other = pd.concat([predictions(0.6, "a->b", rng_seed=1), predictions(0.6, "a->c", rng_seed=2)])
    table, skipped = method_stats({"base": base, "other": other, "third": other}, n_boot=100)
    assert skipped == [f"{name} vs base, fused head: 1 pair(s) predicted by base only, not compared: a→b (oracle)"
                       for name in ("other", "third")]
    assert set(table["pair"]) == {"a->b", "a->c", "overall (cross)"}


def test_every_seed_is_kept_and_averaged():
    base = predictions(0.5, seeds=(0,))
    two = pd.concat([predictions(1.0, seeds=(0,)), predictions(0.0, seeds=(1,))])
    table, _ = method_stats({"base": base, "two": two}, n_boot=200)
    war = table[table["metric"] == "war"].iloc[0]
    # seed 0 always right, seed 1 never: seed mean 0.5; n_rows counts the test rows once
    assert war["delta"] == pytest.approx(0.5 - (base["predicted"] == base["label"]).mean())
    assert war["n_rows"] == 80


def test_different_test_rows_are_an_error_not_a_silent_intersection():
    base = predictions(0.5)
    part = base[base["speaker"] != "s3"]
    with pytest.raises(ResultsError, match="different rows"):
        method_stats({"base": base, "part": part}, n_boot=100)
    seeds = pd.concat([predictions(0.5, seeds=(0,)), predictions(0.5, seeds=(1,)).query("speaker != 's0'")])
    with pytest.raises(ResultsError, match="seeds of one system must share the test rows"):
        method_stats({"base": base, "seeds": seeds}, n_boot=100)
    relabelled = base.assign(label=base["label"].where(base["utterance_id"] != "s1u1", "anger"))
    with pytest.raises(ResultsError, match="disagree on true labels"):
        method_stats({"base": base, "r": relabelled}, n_boot=100)


def test_a_pair_only_one_side_ran_is_a_reported_skip():
    base = pd.concat([predictions(0.5, "a->b"), predictions(0.5, "a->c")])
    table, skipped = method_stats({"base": base, "one": predictions(0.6, "a->b")}, n_boot=100)
    assert set(table["pair"]) == {"a->b"} and skipped and "a->c" in skipped[0]


def test_selection_rules_are_systems(tmp_path):
    out = tmp_path / "x"
    write_results(out, **make_inputs("x"))
    write_predictions(out, pd.concat([predictions(0.5).assign(selection="source_val"),
                                      predictions(0.7, rng_seed=3).assign(selection="iwv")]))
    assert list(load_systems([out])) == ["x"]  # the primary rule (source_val by default) keeps the plain name
    assert list(load_systems([out], ["all"])) == ["x@source_val", "x@iwv"]


def test_cli_writes_the_stats_csv(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    for d, rate in ((one, 0.5), (two, 0.9)):
        write_results(d, **make_inputs(d.name))
        write_predictions(d, predictions(rate, rng_seed=int(rate * 10)).assign(experiment=d.name))
    res = CliRunner().invoke(app, ["compare", str(one), str(two), "--stats", "--n-boot", "200", "--out",
                                   str(tmp_path / "cmp.csv")], terminal_width=250)
    assert res.exit_code == 0, res.output
    assert "Method-level comparison" in res.output
    stats = pd.read_csv(tmp_path / "cmp.csv")
    assert tuple(stats.columns) == STATS_COLUMNS and set(stats["system"]) == {"two"}
    assert (tmp_path / "cmp.board.csv").is_file() and (tmp_path / "cmp.paired.csv").is_file()
    write_predictions(two, predictions(0.9).assign(experiment="two").query("speaker != 's2'"))
    res = CliRunner().invoke(app, ["compare", str(one), str(two), "--stats", "--n-boot", "200"], terminal_width=250)
    assert res.exit_code == 2 and "different rows" in res.output
