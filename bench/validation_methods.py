"""Do the corpus-level methods recover a planted shift when it is a translation of what they align?

    python bench/validation_methods.py [experiments/validation.yaml] [--features cues|proxy|tokens] [--targets T ...]
                                       [--seeds N]

The experiment's own corpus terms (`fdan.alignment.scopes.Alignment` built from its `train` section: the method,
its ramp and warm-up, kernel options, the normalisation rule and gains of `fdan.alignment.scale`) train a small
model on one representation of `bench/validation_proxy.py` (`--features`, default `cues`: the generator's true cue
vectors, where the shift is a pure translation):

    x  →  standardise (source statistics)  →  AdaptationNetwork (d → 64, the model's)  →  Linear (64 → C)
    loss = CE(source batch) + α · term(normalised source features, normalised target features)

on all source rows, with the unlabelled other target fold as the target batches, tested on fold f (the
`cross_folds: target` protocol: both folds together test every target row once). Settings from the
experiment: `train.epochs`, `batch_size`, `lr`, `weight_decay`; methods from `variants`; weights α from the
searched `train.cross_corpus_lmmd_weight` values — every weight is shown (no selection). `adabn` is source-only
training with the input standardised by the other fold's statistics; `oracle` is source-only training on the
labelled other fold. `fdan`'s corpus term is DSAN's (its modality term needs the two-branch model): not run here.
Each figure is the mean ± sd over `--seeds` training seeds (`search.seed`, `search.seed + 1`, ...): one seed's
figure on the media's features moves by several points.

If a method recovers the shift here but not in the validation sweep, the method works and the shift is not a
translation of the features the sweep's model aligns (README, "Validating the harness").
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from validation_proxy import Corpus, load_corpora, standardised  # noqa: E402

from fdan.alignment.scale import normalised_pair  # noqa: E402
from fdan.alignment.scopes import Alignment  # noqa: E402
from fdan.config import TrainConfig  # noqa: E402
from fdan.model.adaptation import AdaptationNetwork  # noqa: E402
from harness.config.schema import load_config  # noqa: E402

WEIGHT_FIELD = "train.cross_corpus_lmmd_weight"


def train_and_test(method: str, alpha: float, xs: np.ndarray, ys: np.ndarray, xt: np.ndarray, xtest: np.ndarray,
                   n_classes: int, train: TrainConfig, seed: int) -> np.ndarray:
    """Predicted classes of `xtest` after training on labelled `xs` (and unlabelled `xt` for a method's term)."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    encoder, head = AdaptationNetwork(xs.shape[1], 64), torch.nn.Linear(64, n_classes)
    align = Alignment(train.model_copy(update={"method": method}), 64, n_classes, scopes=("corpus",))
    opt = torch.optim.AdamW([*encoder.parameters(), *head.parameters(), *align.parameters()], lr=train.lr,
                            weight_decay=train.weight_decay)
    S, Y = torch.tensor(xs, dtype=torch.float32), torch.tensor(ys)
    T = torch.tensor(xt, dtype=torch.float32)
    total = train.epochs * max(1, len(S) // train.batch_size)
    for step in range(total):
        i = torch.randint(len(S), (train.batch_size,), generator=gen)
        fs = encoder(S[i])
        loss = torch.nn.functional.cross_entropy(head(fs), Y[i])
        if align.corpus is not None:
            ft = encoder(T[torch.randint(len(T), (train.batch_size,), generator=gen)])
            pair = normalised_pair(align.corpus.name, fs, ft, train.lmmd_scale_invariant)
            term = align.term("corpus", *pair, Y[i], torch.softmax(head(ft), 1).detach(), step / total)
            loss = loss + alpha * term[0]
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return head(encoder(torch.tensor(xtest, dtype=torch.float32))).argmax(1).numpy()


def accuracy(method: str, alpha: float, source: Corpus, target: Corpus, classes: list[str], train: TrainConfig,
             mod: str, seed: int) -> float:
    """Accuracy (%) on all target rows, each fold tested by a model that adapted on the other fold."""
    ys = np.array([classes.index(c) for c in source.labels])
    yt = np.array([classes.index(c) for c in target.labels])
    xs, xt = source.feats[mod], target.feats[mod]
    hits = 0
    for f in np.unique(target.folds):
        test, adapt = target.folds == f, target.folds != f
        if method == "oracle":
            pred = train_and_test("source_only", 0.0, standardised(xt[adapt], xt[adapt]), yt[adapt], xt[adapt],
                                  standardised(xt[test], xt[adapt]), len(classes), train, seed)
        else:
            own = method == "adabn"
            pred = train_and_test(method, alpha, standardised(xs, xs), ys, standardised(xt[adapt], xs),
                                  standardised(xt[test], xt[adapt] if own else xs), len(classes), train, seed)
        hits += int((pred == yt[test]).sum())
    return 100 * hits / len(yt)


def main() -> None:
    parser = argparse.ArgumentParser(description="do the methods recover a planted shift that is a translation?")
    parser.add_argument("config", nargs="?", default="experiments/validation.yaml")
    parser.add_argument("--features", choices=("cues", "proxy", "tokens"), default="cues")
    parser.add_argument("--targets", nargs="*", help="target corpora (default: every cross pair's)")
    parser.add_argument("--modality", choices=("audio", "face", "fused"), default="fused")
    parser.add_argument("--seeds", type=int, default=5, help="training seeds per figure (mean ± sd)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    cfg = load_config(args.config)
    corpora = load_corpora(cfg, args.features)
    source = cfg.pairs.cross[0].source
    targets = args.targets or [p.target for p in cfg.pairs.cross]
    classes = sorted(set(corpora[source].labels))
    space = cfg.search.space.get(WEIGHT_FIELD)
    weights = list(getattr(space, "values", None) or [cfg.train.lmmd_weight])
    methods = [v.get("train.method") for v in cfg.variants] if cfg.variants else [cfg.train.method]
    rows = [("source_only", 0.0)] + [(m, 0.0) for m in methods if m == "adabn"]
    rows += [(m, w) for m in methods if m not in ("source_only", "adabn", "fdan") for w in weights] + [("oracle", 0.0)]
    seeds = [cfg.search.seed + k for k in range(args.seeds)]
    print(f"{args.features} features ({args.modality}); small model trained on {source}; accuracy (%) on all target rows;"
          f" mean ± sd over seeds {seeds[0]}..{seeds[-1]}")
    acc: dict[tuple[str, float], dict[str, np.ndarray]] = {}
    print(f"{'method':<14}" + "".join(f"{t:>18}" for t in targets), flush=True)
    for method, alpha in rows:
        acc[method, alpha] = {t: np.array([accuracy(method, alpha, corpora[source], corpora[t], classes, cfg.train,
                                                    args.modality, seed) for seed in seeds]) for t in targets}
        print(f"{label_of(method, alpha):<14}" + "".join(f"{mean_sd(acc[method, alpha][t]):>18}" for t in targets),
              flush=True)
    print("share of the source-only -> oracle gap (%): per seed, then mean ± sd")
    base, top = acc["source_only", 0.0], acc["oracle", 0.0]
    for (method, alpha), by_target in acc.items():
        if method not in ("source_only", "oracle"):
            shares = [share_of_gap(by_target[t], base[t], top[t]) for t in targets]
            print(f"{label_of(method, alpha):<14}" + "".join(f"{mean_sd(x):>18}" for x in shares), flush=True)


def share_of_gap(acc: np.ndarray, base: np.ndarray, top: np.ndarray) -> np.ndarray:
    """Per seed, 100 · (acc − base) / (top − base); NaN for a seed whose oracle equals source-only (no gap)."""
    gap = top - base
    return np.divide(100 * (acc - base), gap, out=np.full(gap.shape, np.nan), where=gap != 0)


def label_of(method: str, alpha: float) -> str:
    return f"{method}@{alpha:g}" if method not in ("source_only", "adabn", "oracle") else method


def mean_sd(x: np.ndarray) -> str:
    x = x[~np.isnan(x)]
    if not len(x):
        return "–"
    return f"{np.mean(x):.1f} ± {np.std(x, ddof=1) if len(x) > 1 else 0.0:.1f}"


if __name__ == "__main__":
    main()
