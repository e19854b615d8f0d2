"""Is each planted shift of `experiments/validation.yaml` harmful, and recoverable, for a simple model?

    python bench/validation_proxy.py [experiments/validation.yaml] [--features cues|proxy|tokens]

Reads the experiment's feature caches (prepared by the sweep, or by `fdan-bench prepare`; nothing is
decoded here) and trains a logistic regression on all source rows of one representation (`--features`):

- `cues`: the generator's true cue vectors of each clip (`fdan.corpora.synth.cues`, recomputed from the
  `synth:` blocks): where the shift is planted, a pure translation;
- `proxy` (default): the proxy features of `bench/synth_calibration.py` (log-Mel mean/std per bin, face HOG +
  grey std);
- `tokens`: the frozen trunks' outputs of the experiment's model (its token cache), pooled per utterance
  (audio: mean and std over the valid tokens; face: mean over the frames) — what every method's trainable part
  (token standardisation, attention, adaptation networks) starts from.

Per target corpus and modality it prints the accuracy on all target rows

- `no adaptation`: every corpus standardised with the source's statistics;
- `other fold`: each target fold standardised with the mean and std of the *other* target fold (the unlabelled
  rows a corpus-level method adapts on under `cross_folds: target`; no target label read) — first- and
  second-moment matching, what `adabn` does per channel;
- `all rows`: the target standardised with its own statistics over all rows, test rows included (transductive:
  an upper bound on moment matching, not a protocol a method runs under);
- `oracle`: a regression trained on the labelled other target fold (the `pairs.oracle` ceiling of this model).

A shift that lowers `no adaptation` and that `other fold` brings back is harmful and recoverable by marginal
alignment; one that it does not bring back is not (for this representation).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synth_calibration import proxy_features  # noqa: E402

from fdan.features.cache import FeatureSet  # noqa: E402
from fdan.features.cache_name import cache_dir_for  # noqa: E402
from fdan.features.token_cache import token_dir  # noqa: E402
from harness.config.schema import load_config  # noqa: E402
from harness.experiment.corpora import synth_args  # noqa: E402

if TYPE_CHECKING:
    import pandas as pd

MODALITIES = ("audio", "face", "fused")


class Corpus(NamedTuple):
    feats: dict[str, np.ndarray]  # modality -> (N, d)
    labels: np.ndarray  # (N,) emotion names
    folds: np.ndarray  # (N,) the importer's speaker folds


def pooled_tokens(directory: Path, model_cfg: object) -> dict[str, np.ndarray]:
    """Per utterance: audio tokens' mean and std over the valid tokens, face tokens' mean over the valid frames."""
    tokens = token_dir(directory, model_cfg)
    if not (tokens / "audio_feat.npy").is_file():
        sys.exit(f"no token cache at {tokens}: run the sweep (or its preparation) first")
    a, f = np.load(tokens / "audio_feat.npy"), np.load(tokens / "face_feat.npy")
    am, fm = np.load(tokens / "audio_mask.npy")[..., None], np.load(tokens / "face_mask.npy")[..., None]
    mean = (a * am).sum(1) / am.sum(1).clip(1)
    std = np.sqrt((((a - mean[:, None]) ** 2) * am).sum(1) / am.sum(1).clip(1))
    face = (f * fm).sum(1) / fm.sum(1).clip(1)
    return {"audio": np.hstack([mean, std]), "face": face, "fused": np.hstack([mean, std, face])}


def true_cues(name: str, spec: object, manifest: "pd.DataFrame") -> dict[str, np.ndarray]:
    """The generator's cue vectors of a synthetic corpus' clips, in manifest order (audio: voice cues); exits with
    a message when the corpus has no `synth:` block or its cache holds clips the recipe does not make."""
    from fdan.corpora.synth.cues import corpus_cues

    if spec.synth is None:
        sys.exit(f"--features cues needs synthetic corpora: corpus {name!r} has no synth: block")
    table = corpus_cues(**synth_args(spec.synth)).set_index("utterance_id")
    ids = manifest["utterance_id"].to_numpy()
    unknown = sorted(set(ids) - set(table.index))
    if unknown:
        sys.exit(f"corpus {name!r}: {len(unknown)} clip(s) of its feature cache are not made by its synth: block "
                 f"(e.g. {unknown[0]}): the cache is of another recipe; run the sweep again")
    table = table.loc[ids]
    if not (table["emotion"].to_numpy() == manifest["label"].to_numpy()).all():
        sys.exit(f"corpus {name!r}: the recipe's emotions differ from the feature cache's labels")
    face = table[[c for c in table.columns if c.startswith("face.")]].to_numpy(float)
    voice = table[[c for c in table.columns if c.startswith("voice.")]].to_numpy(float)
    return {"audio": voice, "face": face, "fused": np.hstack([voice, face])}


def load_corpora(cfg: object, kind: str) -> dict[str, Corpus]:
    """Every corpus of the experiment in one representation (module docstring)."""
    out = {}
    for name, spec in cfg.corpora.items():
        directory = cache_dir_for(cfg.cache_dir, spec.synth.name or name if spec.synth else name, cfg.features,
                                  spec.importer, spec.options)
        if not (directory / "manifest.csv").is_file():
            sys.exit(f"no feature cache at {directory}: run the sweep (or `fdan-bench prepare`) first")
        fs = FeatureSet.open(directory)
        manifest = fs.manifest
        feats = {"proxy": lambda: proxy_features(fs), "tokens": lambda: pooled_tokens(directory, cfg.model),
                 "cues": lambda: true_cues(name, spec, manifest)}[kind]()
        out[name] = Corpus(feats, manifest["label"].to_numpy(), manifest["fold"].to_numpy())
    return out


def standardised(x: np.ndarray, stats_from: np.ndarray) -> np.ndarray:
    return (x - stats_from.mean(0)) / (stats_from.std(0) + 1e-6)


def accuracies(source: Corpus, target: Corpus, mod: str) -> dict[str, float]:
    """Accuracy (%) on all target rows under each adaptation of the module docstring (NaN where the target
    has a single fold)."""
    from sklearn.linear_model import LogisticRegression

    fit = lambda x, y: LogisticRegression(C=0.05, max_iter=3000).fit(x, y)  # noqa: E731
    xs, xt, yt = source.feats[mod], target.feats[mod], target.labels
    clf = fit(standardised(xs, xs), source.labels)
    out = {"no adaptation": (clf.predict(standardised(xt, xs)) == yt).mean(),
           "other fold": np.nan, "all rows": (clf.predict(standardised(xt, xt)) == yt).mean(), "oracle": np.nan}
    folds = np.unique(target.folds)
    if len(folds) > 1:
        other = oracle = 0
        for f in folds:
            test, adapt = target.folds == f, target.folds != f
            other += (clf.predict(standardised(xt[test], xt[adapt])) == yt[test]).sum()
            own = fit(standardised(xt[adapt], xt[adapt]), yt[adapt])
            oracle += (own.predict(standardised(xt[test], xt[adapt])) == yt[test]).sum()
        out["other fold"], out["oracle"] = other / len(yt), oracle / len(yt)
    return {k: 100 * float(v) for k, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description="is each planted shift harmful, and recoverable by moment matching?")
    parser.add_argument("config", nargs="?", default="experiments/validation.yaml")
    parser.add_argument("--features", choices=("cues", "proxy", "tokens"), default="proxy")
    args = parser.parse_args()
    cfg = load_config(args.config)
    corpora = load_corpora(cfg, args.features)
    source = cfg.pairs.cross[0].source
    print(f"{args.features} features; logistic regression on {source} (all rows), accuracy (%) on all rows of each target")
    columns = ("no adaptation", "other fold", "all rows", "oracle")
    print(f"{'target':<18} {'modality':<7} " + " ".join(f"{c:>14}" for c in columns))
    for pair in cfg.pairs.cross:
        for mod in MODALITIES:
            acc = accuracies(corpora[source], corpora[pair.target], mod)
            print(f"{pair.target:<18} {mod:<7} " + " ".join(f"{acc[c]:14.1f}" for c in columns))


if __name__ == "__main__":
    main()
