"""Is each planted shift of `experiments/validation.yaml` harmful, and recoverable, for a simple model?

    python bench/validation_proxy.py [experiments/validation.yaml] [--features proxy|tokens]

Reads the experiment's feature caches (prepared by the sweep, or by `fdan-bench prepare`; nothing is
decoded here), computes the proxy features of `bench/synth_calibration.py` (log-Mel mean/std per bin,
face HOG + grey std) and trains a logistic regression on all source rows. Per target corpus it prints
the accuracy of that classifier on all target rows

- `no adaptation`: features standardised with the source's statistics;
- `per-corpus standardisation`: each corpus standardised with its own mean and std (an unsupervised
  first-moment alignment, the simplest thing a corpus-level method can learn; no target label read).

A shift that lowers `no adaptation` and that `per-corpus standardisation` brings back is harmful and
recoverable by marginal alignment; one that it does not bring back is not (for this model).

`--features tokens`: instead of the proxy features, the frozen trunks' outputs of the experiment's model (its
token cache, prepared by the sweep), pooled per utterance (audio: mean and std over the valid tokens; face: mean
over the frames). That is the representation every method's trainable part (token standardisation, attention,
adaptation networks) starts from: whether the shift is recoverable *there* by per-channel moment matching (what
`adabn` does) says what a method could do with these trunks.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synth_calibration import proxy_features  # noqa: E402

from fdan.features.cache import FeatureSet  # noqa: E402
from fdan.features.cache_name import cache_dir_for  # noqa: E402
from fdan.features.token_cache import token_dir  # noqa: E402
from harness.config.schema import load_config  # noqa: E402


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


def main() -> None:
    from sklearn.linear_model import LogisticRegression

    import argparse

    parser = argparse.ArgumentParser(description="is each planted shift harmful, and recoverable by moment matching?")
    parser.add_argument("config", nargs="?", default="experiments/validation.yaml")
    parser.add_argument("--features", choices=("proxy", "tokens"), default="proxy")
    args = parser.parse_args()
    kind = args.features
    cfg = load_config(args.config)
    feats, labels = {}, {}
    for name, spec in cfg.corpora.items():
        directory = cache_dir_for(cfg.cache_dir, spec.synth.name or name, cfg.features, spec.importer, spec.options)
        fs = FeatureSet.open(directory)
        feats[name] = proxy_features(fs) if kind == "proxy" else pooled_tokens(directory, cfg.model)
        labels[name] = fs.manifest["label"].to_numpy()
    source = cfg.pairs.cross[0].source
    print(f"{kind} features; logistic regression on {source} (all rows), accuracy on all rows of each target")
    print(f"{'target':<18} {'modality':<7} {'no adaptation':>14} {'per-corpus std':>15}")
    for pair in cfg.pairs.cross:
        for mod in ("audio", "face", "fused"):
            xs, xt = feats[source][mod], feats[pair.target][mod]
            mu, sd = xs.mean(0), xs.std(0) + 1e-6
            clf = LogisticRegression(C=0.05, max_iter=3000).fit((xs - mu) / sd, labels[source])
            plain = (clf.predict((xt - mu) / sd) == labels[pair.target]).mean()
            own = (clf.predict((xt - xt.mean(0)) / (xt.std(0) + 1e-6)) == labels[pair.target]).mean()
            print(f"{pair.target:<18} {mod:<7} {100 * plain:13.1f}% {100 * own:14.1f}%")


if __name__ == "__main__":
    main()
