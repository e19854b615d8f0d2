"""Calibrate the synthetic corpora: how learnable are the emotions within and across corpora?

Generates synth-studio and synth-street (timed), extracts features with the real feature pipeline
(fdan.features.prepare_corpus: PyAV/soundfile decode, log-Mel, Haar face crops), then trains

- proxy: logistic regression on log-Mel mean/std per bin + downsampled grey face mean/std over
  frames, per modality and fused (feature concatenation);
- fdan (optional, --fdan): the real FDAN (fdan.model + fdan.training) at small input sizes.

Within corpus = speaker-independent (leave-one-speaker-out for the proxy, held-out speakers for
FDAN); cross corpus = train on all of one corpus, test on all of the other.

    python bench/synth_calibration.py --out /tmp/synth-calib [--speakers 6 --clips 4] [--fdan --epochs 8]
"""
from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np

from fdan.config import FeatureConfig
import fdan.corpora.synth  # noqa: F401  (registers the importer)
from fdan.corpora.synth import EMOTIONS, generate
from fdan.features.cache import FeatureSet, prepare_corpus

CORPORA = ("synth-studio", "synth-street")
FEAT = FeatureConfig(n_mels=64, n_fft=512, win_length=400, hop_length=160, clip_seconds=3.0, n_frames=4,
                     face_size=48)


def build(out: Path, speakers: int, clips: int, seed: int, workers: int | None, reuse: bool) -> dict[str, FeatureSet]:
    """Generate both corpora (printing the time) and extract their features."""
    import resource

    def cpu() -> float:
        own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    sets = {}
    t0, c0 = time.perf_counter(), cpu()
    for name in CORPORA if not reuse else ():
        shutil.rmtree(out / name, ignore_errors=True)
        generate(out / name, name, seed=seed, speakers=speakers, clips_per_emotion=clips, workers=workers)
    if not reuse:
        print(f"generation: both corpora, {speakers} speakers x 7 x {clips} clips each: "
              f"{time.perf_counter() - t0:.1f} s wall, {cpu() - c0:.1f} s CPU")
    for name in CORPORA:
        t = time.perf_counter()
        res = prepare_corpus("synth", out / name, out / f"{name}-features", FEAT)
        print(f"features {name}: {res.n_usable} usable, {res.n_fallback} centre-crop fallbacks, "
              f"{time.perf_counter() - t:.1f} s")
        sets[name] = FeatureSet.open(out / f"{name}-features")
    return sets


def proxy_features(fs: FeatureSet) -> dict[str, np.ndarray]:
    """audio: log-Mel mean/std per bin and of the frame energy; face: HOG mean + 24x24 grey std over frames.

    Like the model, each utterance's log-Mel and each face crop is standardised first (so absolute
    level and lighting gain are not features).
    """
    import cv2

    mel = np.asarray(fs.mel, dtype=np.float32)[:, 0]  # (N, M, T)
    mel = (mel - mel.mean((1, 2), keepdims=True)) / (mel.std((1, 2), keepdims=True) + 1e-5)
    energy = mel.mean(1)
    voiced = energy > np.percentile(energy, 40, axis=1, keepdims=True)
    mu = np.stack([m[:, v].mean(1) for m, v in zip(mel, voiced)])
    sd = np.stack([m[:, v].std(1) for m, v in zip(mel, voiced)])
    audio = np.concatenate([mu, sd, np.percentile(energy, [10, 50, 90], axis=1).T, voiced.mean(1, keepdims=True)], 1)
    faces = np.asarray(fs.faces)  # (N, K, 3, S, S)
    grey = faces.mean(2)
    grey = (grey - grey.mean((2, 3), keepdims=True)) / (grey.std((2, 3), keepdims=True) + 1e-5)
    small = np.stack([[cv2.resize(f, (24, 24), interpolation=cv2.INTER_AREA) for f in g] for g in grey])
    size = faces.shape[-1]
    hog = cv2.HOGDescriptor((size, size), (16, 16), (8, 8), (8, 8), 9)
    hogs = np.stack([[hog.compute(f.astype(np.uint8)).ravel() for f in g] for g in faces.mean(2)])
    face = np.concatenate([small.std(1).reshape(len(small), -1), hogs.mean(1)], 1)
    return {"audio": audio, "face": face, "fused": np.concatenate([audio, face], 1)}


def _clf():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=2000))


def run_proxy(sets: dict[str, FeatureSet]) -> dict[str, dict[str, float]]:
    """Accuracy per modality: within corpus (LOSO) and across corpora (train all A, test all B)."""
    feats = {n: proxy_features(fs) for n, fs in sets.items()}
    labels = {n: fs.manifest["label"].to_numpy() for n, fs in sets.items()}
    folds = {n: fs.manifest["fold"].to_numpy() for n, fs in sets.items()}
    out: dict[str, dict[str, float]] = {}
    for mod in ("audio", "face", "fused"):
        row = {}
        for n in CORPORA:
            x, y, f = feats[n][mod], labels[n], folds[n]
            hits = 0
            for k in np.unique(f):
                clf = _clf().fit(x[f != k], y[f != k])
                hits += int((clf.predict(x[f == k]) == y[f == k]).sum())
            row[f"{n} (LOSO)"] = hits / len(y)
        for a, b in (CORPORA, CORPORA[::-1]):
            clf = _clf().fit(feats[a][mod], labels[a])
            row[f"{a} -> {b}"] = float((clf.predict(feats[b][mod]) == labels[b]).mean())
        out[mod] = row
    return out


def run_fdan(sets: dict[str, FeatureSet], epochs: int, test_speakers: int) -> dict[str, dict[str, float]]:
    """Real FDAN (small ResNet inputs): train on studio minus held-out speakers; test within and across."""
    import torch
    from torch.utils.data import DataLoader

    from fdan.config import TrainConfig
    from fdan.model import create_model
    from fdan.evaluation.evaluate import evaluate
    from fdan.training.fit import fit, seed_everything

    torch.set_num_threads(2)
    l2i = {e: i for i, e in enumerate(EMOTIONS)}
    results: dict[str, dict[str, float]] = {}
    for src, tgt in (CORPORA, CORPORA[::-1]):
        seed_everything(0)
        s, t = sets[src], sets[tgt]
        fold = s.manifest["fold"].to_numpy()
        held = fold >= fold.max() + 1 - test_speakers
        train = DataLoader(s.dataset(np.where(~held)[0], l2i), batch_size=16, shuffle=True, drop_last=True)
        within = DataLoader(s.dataset(np.where(held)[0], l2i), batch_size=64)
        across = DataLoader(t.dataset(None, l2i), batch_size=64)
        model = create_model("fdan", backbone="resnet18", num_classes=len(EMOTIONS), attn_dim=128, adapt_dim=128)
        cfg = TrainConfig(epochs=epochs, batch_size=16, optimizer="adamw", lr=1e-3, backbone_lr_mult=1.0,
                          lr_schedule="cosine", lmmd_weight=0.1, weight_decay=1e-4)
        t0 = time.perf_counter()
        fit(model, train, None, cfg, num_classes=len(EMOTIONS))
        w, x = evaluate(model, within, len(EMOTIONS)), evaluate(model, across, len(EMOTIONS))
        for head in ("audio", "face", "fused"):
            results.setdefault(head, {})[f"{src} (held-out speakers)"] = w.metrics[head]["war"]
            results[head][f"{src} -> {tgt}"] = x.metrics[head]["war"]
        print(f"fdan {src}: trained {epochs} epochs in {time.perf_counter() - t0:.0f} s")
    return results


def _print(title: str, table: dict[str, dict[str, float]]) -> None:
    cols = list(next(iter(table.values())))
    print(f"\n{title} (accuracy, chance = {1 / len(EMOTIONS):.3f})")
    print(f"{'modality':8s} " + " ".join(f"{c:>30s}" for c in cols))
    for mod, row in table.items():
        print(f"{mod:8s} " + " ".join(f"{row[c]:30.3f}" for c in cols))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("/tmp/fdan-synth-calibration"))
    ap.add_argument("--speakers", type=int, default=6)
    ap.add_argument("--clips", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--reuse", action="store_true", help="reuse corpora and features already under --out")
    ap.add_argument("--fdan", action="store_true", help="also train the real FDAN (slow on CPU)")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--test-speakers", type=int, default=2)
    args = ap.parse_args()
    sets = build(args.out, args.speakers, args.clips, args.seed, args.workers, args.reuse)
    report = {"proxy": run_proxy(sets)}
    _print("proxy: logistic regression", report["proxy"])
    if args.fdan:
        report["fdan"] = run_fdan(sets, args.epochs, args.test_speakers)
        _print("FDAN (resnet18 trunks, 64 Mel x 301, 4 faces 48x48)", report["fdan"])
    (args.out / "calibration.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
