"""Preparation speed of `fdan.features.prepare_corpus`: this tree against a baseline commit, in one run.

The script writes `--clips` RAVDESS-like 720p clips (`prepare_clips`: 1280x720 H.264 with B-frames
+ AAC, `--seconds` long, one large moving face) into a temporary directory, unpacks the baseline's
`fdan` package (`git archive BASELINE fdan`, default the commit before issue 23's changes) beside
it, and measures both versions on the same clips, each in its own child process (PYTHONPATH picks
the package; the child prints which one it imported):

- stages: CPU milliseconds per clip (default FeatureConfig: 8 face crops from the 3 s audio window,
  128-bin log-Mel; the median over the clips after a warm-up clip) of decode audio, log-Mel, decode
  the 8 frames, faces (detection + following + crops); measured twice per version, alternating, and
  the lower of the two kept (other processes only ever add time);
- crops: each version's followed-face box in every sampled frame of every clip against the drawn
  face's true centre (skin-colour centroid): mean and max centre error in pixels, box side / face
  height;
- rates: `prepare_corpus` over all clips with a spawn `ProcessPoolExecutor` of 1 and 2 workers as
  `map_fn`, one thread each (OMP_NUM_THREADS=1: FFmpeg, OpenCV, torch), as a Ray task with
  cpus_per_task=1, each worker warmed by one extraction: clips/s (wall) and clips per CPU-second (the
  workers' own CPU time, which the machine's other load disturbs far less). Versions alternate per
  worker count.

    python bench/bench_prepare.py                              # 16 clips of 3.5 s, workers 1 and 2
    python bench/bench_prepare.py --clips 8 --baseline HEAD~5
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from prepare_clips import H, W, true_centre, write_clip

BASELINE = "c3b32b7"  # main before issue 23 (Haar on every frame, every frame decoded)
REPO = Path(__file__).resolve().parent.parent


@dataclass
class ClipsImporter:
    """Every mp4 under the root is one utterance (label anger, speaker = clip number)."""

    name: str = "bench-clips"

    def scan(self, root: Path):
        from fdan.corpora.base import ScanResult, Utterance

        utts = [Utterance("bench", p.stem, p.stem, "05", "anger", "all", 0, "", p.name)
                for p in sorted(Path(root).glob("*.mp4"))]
        return ScanResult("bench", utts, [])


_INIT_CPU = 0.0


def _one_cpu(barrier=None, warm_clip: str = "") -> None:
    """Pool initializer: one CPU's worth of threads per worker, modules imported and (`warm_clip`) one
    clip extracted before timing, so lazy one-off costs (cascade loading, Mel filter banks) are not counted."""
    global _BARRIER, _INIT_CPU
    os.environ["OMP_NUM_THREADS"] = "1"
    import cv2
    import torch

    import fdan.features.extract  # noqa: F401

    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    if warm_clip:
        from fdan.config import FeatureConfig
        from fdan.corpora.base import Utterance
        from fdan.features.extract import extract_utterance

        path = Path(warm_clip)
        extract_utterance(path.parent, Utterance("bench", "w", "w", "05", "anger", "all", 0, "", path.name),
                          FeatureConfig())
    _BARRIER = barrier
    _INIT_CPU = time.process_time()


def _warm(_: int) -> int:
    return os.getpid()


def _worker_cpu(_: int) -> float:
    """This worker's CPU seconds since its start-up; the barrier makes each worker answer once."""
    _BARRIER.wait(timeout=60)
    return time.process_time() - _INIT_CPU


def rate(root: Path, out: Path, workers: int) -> dict[str, float]:
    """One prepare_corpus over root with `workers` processes: clips/s and clips per CPU-second."""
    from fdan.features import prepare_corpus

    ctx = get_context("spawn")
    warm = str(sorted(root.glob("*.mp4"))[0])
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_one_cpu,
                             initargs=(ctx.Barrier(workers), warm)) as pool:
        list(pool.map(_warm, range(workers * 4)))
        start = time.perf_counter()
        res = prepare_corpus(ClipsImporter(), root, out=out, map_fn=partial(pool.map, chunksize=1))
        wall = time.perf_counter() - start
        cpu = sum(pool.map(_worker_cpu, range(workers)))
    return {"clips_per_s": res.n_usable / wall, "clips_per_cpu_s": res.n_usable / cpu, "usable": res.n_usable}


def stages(root: Path) -> dict[str, object]:
    """CPU ms per stage (mean over up to 4 clips after a warm-up) and the crop check over all clips."""
    _one_cpu()
    import fdan
    from fdan.config import FeatureConfig
    from fdan.features.decode import decode_audio, decode_video_frames
    from fdan.features.faces import face_crops, track_face
    from fdan.features.mel import audio_to_logmel_with_len, audio_window

    cfg = FeatureConfig()
    clips = sorted(root.glob("*.mp4"))
    per_clip: dict[str, list[float]] = {}
    errors, sides = [], []
    for i, path in enumerate(clips):
        times = {}
        t = time.process_time()
        wave, sr = decode_audio(path)
        times["decode audio"] = time.process_time() - t
        t = time.process_time()
        audio_to_logmel_with_len(wave, sr, cfg)
        times["log-Mel"] = time.process_time() - t
        offset, length = audio_window(wave.size / sr, cfg)
        t = time.process_time()
        frames = decode_video_frames(path, cfg.n_frames, offset, offset + length)
        times["decode 8 frames"] = time.process_time() - t
        t = time.process_time()
        face_crops(frames, cfg)
        times["faces (detect + crops)"] = time.process_time() - t
        if i >= 1 or len(clips) == 1:  # clip 0 warms the process up (lazy loads)
            for k, v in times.items():
                per_clip.setdefault(k, []).append(1000 * v)
        boxes, _ = track_face(frames)
        for frame, box in zip(frames, boxes):
            cx, cy, height = true_centre(frame)
            errors.append(float(np.hypot(box[0] + box[2] / 2 - cx, box[1] + box[3] / 2 - cy)))
            sides.append(box[2] / height)
    return {"fdan": fdan.__file__, "stages_ms": {k: float(np.median(v)) for k, v in per_clip.items()}, "crop_err_mean": float(np.mean(errors)),
            "crop_err_max": float(np.max(errors)), "side_ratio": float(np.mean(sides)), "boxes": len(errors)}


def child(version_root: Path, *args: str) -> dict:
    """Run this script's --child mode with `version_root` first on PYTHONPATH; its JSON answer."""
    env = {**os.environ, "PYTHONPATH": str(version_root), "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, __file__, "--child", *args], env=env, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clips", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=3.5)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--baseline", default=BASELINE, help="git revision whose fdan/ is 'before'")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:  # child mode: stages ROOT | rate ROOT OUT WORKERS
        mode, root = args.child[0], Path(args.child[1])
        res = stages(root) if mode == "stages" else rate(root, Path(args.child[2]), int(args.child[3]))
        print(json.dumps(res))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-prepare-") as tmp:
        root, base = Path(tmp) / "clips", Path(tmp) / "baseline"
        root.mkdir()
        base.mkdir()
        archive = subprocess.run(["git", "-C", str(REPO), "archive", args.baseline, "fdan"], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
        t = time.perf_counter()
        for i in range(args.clips):
            write_clip(root / f"clip{i:03d}.mp4", args.seconds, seed=i)
        size = sum(p.stat().st_size for p in root.iterdir()) / args.clips / 1e6
        print(f"wrote {args.clips} clips of {args.seconds} s, {W}x{H} H.264/AAC, {size:.2f} MB each, "
              f"in {time.perf_counter() - t:.1f} s", flush=True)
        versions = {f"before ({args.baseline})": base, "now": REPO}
        load_before = os.getloadavg()
        runs = [{name: child(path, "stages", str(root)) for name, path in versions.items()} for _ in range(2)]
        st = runs[0]
        for name in versions:
            st[name]["stages_ms"] = {k: min(r[name]["stages_ms"][k] for r in runs) for k in st[name]["stages_ms"]}
        for name, s in st.items():
            print(f"{name}: fdan from {s['fdan']}")
        names = list(versions)
        print(f"\nCPU ms per clip (one thread)   {names[0]:>18} {names[1]:>10}  ratio")
        for stage in st[names[0]]["stages_ms"]:
            a, b = st[names[0]]["stages_ms"][stage], st[names[1]]["stages_ms"][stage]
            print(f"  {stage:<28} {a:18.1f} {b:10.1f}  {a / b:5.2f}x")
        a, b = (sum(st[n]["stages_ms"].values()) for n in names)
        print(f"  {'total':<28} {a:18.1f} {b:10.1f}  {a / b:5.2f}x")
        print(f"\ncrops vs the drawn face ({st[names[1]]['boxes']} frames): centre error mean / max px, box side / face height")
        for n in names:
            print(f"  {n:<20} {st[n]['crop_err_mean']:5.1f} / {st[n]['crop_err_max']:5.1f}   {st[n]['side_ratio']:.3f}")
        rates: dict[tuple[str, int], dict] = {}
        print()
        for w in args.workers:
            for n in names:
                rates[n, w] = child(versions[n], "rate", str(root), str(Path(tmp) / f"cache-{len(rates)}"), str(w))
                r = rates[n, w]
                print(f"{n:<20} workers {w}: {r['clips_per_s']:5.2f} clips/s, {r['clips_per_cpu_s']:5.2f} clips per "
                      f"CPU-second ({r['usable']} clips)", flush=True)
        for w in args.workers:
            a, b = rates[names[0], w], rates[names[1], w]
            print(f"now / before, {w} worker(s): {b['clips_per_s'] / a['clips_per_s']:.2f}x clips/s, "
                  f"{b['clips_per_cpu_s'] / a['clips_per_cpu_s']:.2f}x per CPU-second")
        for n in names:
            for w in args.workers[1:]:
                print(f"{n}: {w} / {args.workers[0]} workers: "
                      f"{rates[n, w]['clips_per_s'] / rates[n, args.workers[0]]['clips_per_s']:.2f}x clips/s")
        print(f"cores: {os.cpu_count()}, load average before / after: "
              f"{' '.join(f'{x:.1f}' for x in load_before)} / {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
