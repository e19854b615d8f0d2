"""One cache naming: a corpus prepared by hand (`fdan-bench prepare --cache-dir D`) is the cache a
sweep with `cache_dir: D` finds (importer options included); importer options on the command line;
corpora that cannot be used are clear errors. In-process extraction, no Ray."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import fdan.features.cache as cache_mod
from harness.cli import app
from harness.config import validate_config
from harness.experiment.corpora import CorpusMissing, prepare_corpora

SMALL = ["--n-mels", "16", "--n-fft", "512", "--face-size", "32", "--n-frames", "2", "--clip-seconds", "1.0"]
FEATURES = {"n_mels": 16, "n_fft": 512, "face_size": 32, "n_frames": 2, "clip_seconds": 1.0}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny synthetic corpus (2 speakers x 7 emotions, ~1 s); its labels.csv also reads as a `csv` table."""
    from fdan.corpora.synth import generate

    return generate(tmp_path_factory.mktemp("corp") / "studio", speakers=2, clips_per_emotion=1, workers=1,
                    duration_s=(1.0, 1.1))


def experiment(cache: Path, corpora: dict) -> object:
    return validate_config({"name": "t", "cache_dir": str(cache), "corpora": corpora, "features": FEATURES,
                            "pairs": {"within": [next(iter(corpora))]}})


def prepared_dir(cache: Path) -> Path:
    """The one feature directory `prepare` wrote under `cache` (rich wraps long paths in its table)."""
    made = [p for p in cache.iterdir() if (p / "meta.json").is_file()]
    assert len(made) == 1, sorted(cache.iterdir())
    return made[0].resolve()


def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any decoding would turn every row into a skip (and the prepare would not be a hit)."""
    def boom(*a, **k):
        raise AssertionError("decoded although the hand-prepared cache should be found")

    monkeypatch.setattr(cache_mod, "extract_utterance", boom)


def test_hand_prepared_corpus_is_the_sweeps_cache_hit(corpus: Path, tmp_path: Path, monkeypatch):
    cache = tmp_path / "cache"
    res = CliRunner().invoke(app, ["prepare", "synth", str(corpus), "--cache-dir", str(cache), "--workers", "0", *SMALL],
                             terminal_width=400)
    assert res.exit_code == 0, res.output
    assert "miss" in res.output
    made = prepared_dir(cache)
    assert made.name.startswith("synth-studio-")

    no_decoding(monkeypatch)
    logs: list[str] = []
    dirs = prepare_corpora(experiment(cache, {"s": {"importer": "synth", "root": str(corpus)}}), ["s"],
                           log=logs.append, use_ray=False)
    assert dirs == {"s": made} and "cached" in logs[0]
    # the same corpus listed twice would share (and overwrite) one cache: refused, naming both
    twice = experiment(cache, {"s": {"importer": "synth", "root": str(corpus)},
                               "t": {"importer": "synth", "root": str(corpus)}})
    with pytest.raises(CorpusMissing, match="'s' and 't'"):
        prepare_corpora(twice, ["s", "t"], log=logs.append, use_ray=False)


def test_importer_options_from_the_command_line_name_the_cache(corpus: Path, tmp_path: Path, monkeypatch):
    """`--option corpus=mine` (csv importer over the synthetic labels.csv) = `options: {corpus: mine}`."""
    cache = tmp_path / "cache"
    res = CliRunner().invoke(app, ["prepare", "csv", str(corpus), "--cache-dir", str(cache), "--workers", "0",
                                   "--option", "corpus=mine", "--option", "folds=2", *SMALL], terminal_width=400)
    assert res.exit_code == 0, res.output
    made = prepared_dir(cache)
    assert made.name.startswith("mine-")

    spec = {"importer": "csv", "root": str(corpus), "options": {"corpus": "mine", "folds": 2}}
    logs: list[str] = []
    assert prepare_corpora(experiment(cache, {"m": spec}), ["m"], log=logs.append, use_ray=False) == {"m": made}
    assert "cached" in logs[-1]
    other = {**spec, "options": {"corpus": "mine", "folds": None}}  # another option value: another cache
    again = prepare_corpora(experiment(cache, {"m": other}), ["m"], log=logs.append, use_ray=False)
    assert again["m"] != made and again["m"].name.startswith("mine-") and "cached" not in logs[-1]


@pytest.mark.parametrize("args, words", [
    (["--option", "calm=merge"], ["unknown option", "calm"]),
    (["--option", "calm"], ["KEY=VALUE"]),
    (["--option", "folds=[1"], ["not valid YAML"]),
    (["--out", "x", "--cache-dir", "y"], ["exclude each other"]),
])
def test_bad_prepare_options_exit_2(corpus: Path, args: list[str], words: list[str]):
    res = CliRunner().invoke(app, ["prepare", "synth", str(corpus), "--workers", "0", *args], terminal_width=400)
    assert res.exit_code == 2, res.output
    assert all(w in res.output for w in words) and "Traceback" not in res.output, res.output


def test_root_matching_no_layout_is_a_clear_corpus_error(tmp_path: Path):
    (tmp_path / "SAVEE").mkdir()
    cfg = experiment(tmp_path / "cache", {"savee": {"importer": "savee", "root": str(tmp_path / "SAVEE")}})
    with pytest.raises(CorpusMissing, match=r"corpus 'savee' \(corpora.savee.root = .*SAVEE\)"):
        prepare_corpora(cfg, ["savee"], log=lambda s: None, use_ray=False)
