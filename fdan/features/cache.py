"""Feature cache: import a corpus, extract every utterance's features once, store them compactly.

Layout of a cache directory (docs/ARCHITECTURE.md, "Feature cache directory"):
  manifest.csv  one row per usable utterance, row i <-> array row i (MANIFEST_COLUMNS)
  skipped.csv   path (relative to the corpus root), reason, outcome: the importer's skips and undecodable
                media (outcome skipped), and media used despite a fault worked around (outcome kept)
  mel.npy       float16 (N, 1, n_mels, T)
  mel_len.npy   int32 (N,): valid (non-padding) Mel frames of each row, 1..T
  faces.npy     uint8 (N, K, 3, S, S)
  face_mask.npy bool (N, K): True where the face frame is real, False for zero padding
  meta.json     corpus, importer, importer_options, root, split_source, cache_key, feature_config,
                counts (usable, skipped, kept_with_note, fallbacks, face_choice: {choice: rows}), created,
                fdan_version
A directory is written under a temporary name and renamed into place, so it is complete or absent.
Its default location is `cache_name.cache_dir_for` (shared by `fdan-bench prepare` and the sweep).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

import fdan
from fdan.config import FeatureConfig
from fdan.corpora.base import CorpusImporter, Skip, Utterance, check_root
from fdan.corpora.fold_file import split_source
from fdan.features.cache_name import FEATURE_VERSION, cache_dir_for, importer_settings, resolve_importer
from fdan.features.decode import MediaError
from fdan.features.face_detector import FaceDetectorError, get_detector
from fdan.features.extract import Extracted, extract_utterance
from fdan.features.featureset import FeatureSet
from fdan.features.npy import NpyRowWriter

__all__ = ["FEATURE_VERSION", "PrepareResult", "cache_dir_for", "cache_key", "default_cache_dir", "prepare_corpus",
           "FeatureSet", "MapFn"]

MANIFEST_COLUMNS = ["corpus", "utterance_id", "speaker", "corpus_label", "label", "split", "fold",
                    "audio_path", "video_path", "start", "end",  # start/end: segment seconds, empty = none
                    "face_rule", "face_choice"]  # fdan.features.faces: the rule asked for, what it gave
SKIPPED_COLUMNS = ["path", "reason", "outcome"]  # outcome: skipped (row not used) | kept (worked around)
CACHE_FILES = ("manifest.csv", "skipped.csv", "mel.npy", "mel_len.npy", "faces.npy", "face_mask.npy", "meta.json")

MapFn = Callable[[Callable[[Any], Any], Sequence[Any]], Iterable[Any]]
"""map_fn(fn, items) -> results in the order of items (may be lazy), e.g. a Ray-task map."""


@dataclass(frozen=True)
class PrepareResult:
    out_dir: Path
    n_usable: int
    n_skipped: int
    n_fallback: int
    cache_hit: bool
    n_kept_with_note: int = 0
    face_choice: dict[str, int] = field(default_factory=dict)


def default_cache_dir() -> Path:
    """$FDAN_BENCH_CACHE, else ~/.cache/fdan-bench/features."""
    env = os.environ.get("FDAN_BENCH_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "fdan-bench" / "features"


def _file_identity(root: Path, rel: str) -> list[Any]:
    try:
        st = (root / rel).stat()
    except OSError:
        return [rel, None, None]
    return [rel, st.st_size, st.st_mtime_ns]


def cache_key(cfg: FeatureConfig, root: str | Path, utterances: Sequence[Utterance]) -> str:
    """sha256 (hex) of the feature config, FEATURE_VERSION, every utterance record and the identity
    (relative path, size, mtime_ns) of each source file. The root's absolute location is not part of it."""
    root = Path(root)
    h = hashlib.sha256()
    h.update(json.dumps({"feature_version": FEATURE_VERSION, "config": cfg.model_dump(mode="json")},
                        sort_keys=True).encode())
    for utt in utterances:
        files = [_file_identity(root, p) for p in (utt.audio_path, utt.video_path) if p]
        h.update(json.dumps([asdict(utt), files], sort_keys=True).encode())
        h.update(b"\n")
    return h.hexdigest()


def _extract_job(root: Path, cfg: FeatureConfig, utt: Utterance) -> Extracted | Skip:
    """Run in a worker (maybe a Ray task): features, or the Skip record of the file that failed."""
    try:
        return extract_utterance(root, utt, cfg)
    except MediaError as exc:
        return Skip(exc.path or utt.video_path, exc.reason)
    except FaceDetectorError:  # a setup fault (missing cascade), not a bad file: stop with its message
        raise
    except Exception as exc:  # never let one odd file kill a corpus run; it is listed, not lost
        return Skip(utt.video_path, f"unexpected error: {type(exc).__name__}: {str(exc)[:100]}")


def _is_complete(out_dir: Path, key: str) -> bool:
    if not all((out_dir / name).is_file() for name in CACHE_FILES):
        return False
    try:
        return json.loads((out_dir / "meta.json").read_text()).get("cache_key") == key
    except (OSError, ValueError):
        return False


def _hit(out_dir: Path) -> PrepareResult:
    counts = json.loads((out_dir / "meta.json").read_text())["counts"]
    return PrepareResult(out_dir, counts["usable"], counts["skipped"], counts["fallbacks"], cache_hit=True,
                         n_kept_with_note=counts.get("kept_with_note", 0), face_choice=counts.get("face_choice", {}))


def prepare_corpus(
    importer: str | CorpusImporter,
    root: str | Path,
    out: str | Path | None = None,
    cfg: FeatureConfig | None = None,
    map_fn: MapFn | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    options: Mapping[str, Any] | None = None,
    cache_root: str | Path | None = None,
) -> PrepareResult:
    """Import the corpus under `root` and compute its features into `out`.

    `importer`: a registered name (built with `options`, e.g. {"calm": "merge"}) or an instance.
    `out` None: `cache_dir_for(cache_root or default_cache_dir(), <scanned corpus name>, cfg,
    importer)`, the directory `fdan-bench prepare` and the sweep agree on. If `out` already holds a complete
    cache with the same `cache_key`, nothing is decoded (cache_hit=True); a feature directory with
    another key is replaced; any other non-empty directory is refused (FileExistsError).
    `map_fn(fn, items)` runs the extraction (default: the builtin map, in this process);
    `progress(done, total)` is called after each utterance. Raises CorpusError for a missing root
    or one that matches no layout, FaceDetectorError for a face detector that cannot be built.
    """
    cfg = cfg or FeatureConfig()
    get_detector(cfg.face_detector)  # an unknown detector or a missing model file stops here, with its fix
    root = check_root(Path(root)).resolve()
    imp = resolve_importer(importer, options)
    scan = imp.scan(root)
    key = cache_key(cfg, root, scan.utterances)
    if out is not None:
        out_dir = Path(out).expanduser()
    else:
        out_dir = cache_dir_for(cache_root if cache_root is not None else default_cache_dir(), scan.corpus, cfg, imp)
    if _is_complete(out_dir, key):
        return _hit(out_dir)
    if out_dir.exists() and not (out_dir / "meta.json").is_file() and any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} exists and is not a feature cache directory; refusing to overwrite it")

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        n_fallback, media_skips, usable, notes = _extract_all(root, cfg, scan.utterances, tmp, map_fn, progress)
        skips = list(scan.skipped) + media_skips
        _write_tables(tmp, usable, skips, notes)
        choices = dict(Counter(choice for _, choice in usable))
        meta = {
            "corpus": scan.corpus, "importer": getattr(imp, "name", str(importer)),
            "importer_options": importer_settings(imp), "root": str(root),
            "split_source": split_source(str(getattr(imp, "fold_file", "") or "")),
            "cache_key": key, "feature_config": cfg.model_dump(mode="json"),
            "counts": {"utterances": len(scan.utterances), "usable": len(usable), "skipped": len(skips),
                       "kept_with_note": len(notes), "face_frames": len(usable) * cfg.n_frames,
                       "fallbacks": n_fallback, "face_choice": choices},
            "shapes": {"mel": [len(usable), 1, cfg.n_mels, cfg.n_mel_frames], "mel_len": [len(usable)],
                       "faces": [len(usable), cfg.n_frames, 3, cfg.face_size, cfg.face_size],
                       "face_mask": [len(usable), cfg.n_frames]},
            "feature_version": FEATURE_VERSION,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "fdan_version": fdan.__version__,
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
        _move_into_place(tmp, out_dir, key)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return PrepareResult(out_dir, len(usable), len(skips), n_fallback, cache_hit=False,
                         n_kept_with_note=len(notes), face_choice=choices)


def _extract_all(root: Path, cfg: FeatureConfig, utterances: list[Utterance], tmp: Path,
                 map_fn: MapFn | None, progress: Callable[[int, int], None] | None,
                 ) -> tuple[int, list[Skip], list[tuple[Utterance, str]], list[Skip]]:
    """Stream every extraction result into the tmp/*.npy arrays; returns (fallbacks, skips,
    usable (utterance, face choice), notes of rows kept despite a worked-around fault)."""
    total = len(utterances)
    k, s = cfg.n_frames, cfg.face_size
    writers = {"mel": NpyRowWriter(tmp / "mel.npy", total, (1, cfg.n_mels, cfg.n_mel_frames), np.float16),
               "mel_len": NpyRowWriter(tmp / "mel_len.npy", total, (), np.int32),
               "faces": NpyRowWriter(tmp / "faces.npy", total, (k, 3, s, s), np.uint8),
               "face_mask": NpyRowWriter(tmp / "face_mask.npy", total, (k,), np.bool_)}
    usable: list[tuple[Utterance, str]] = []
    skips: list[Skip] = []
    notes: list[Skip] = []
    n_fallback = 0
    results = (map_fn or map)(partial(_extract_job, root, cfg), utterances)
    done = 0
    for utt, res in zip(utterances, results, strict=True):
        if isinstance(res, Skip):
            skips.append(res)
        else:
            writers["mel"].append(res.mel)
            writers["mel_len"].append(np.asarray(res.mel_len, dtype=np.int32))
            writers["faces"].append(res.faces)
            writers["face_mask"].append(np.asarray(res.face_mask, dtype=np.bool_))
            usable.append((utt, res.face_choice))
            notes.extend(Skip(path, reason) for path, reason in res.notes)
            n_fallback += res.n_fallback
        done += 1
        if progress is not None:
            progress(done, total)
    for writer in writers.values():
        writer.close()
    return n_fallback, skips, usable, notes


def _write_tables(tmp: Path, usable: list[tuple[Utterance, str]], skips: list[Skip], notes: list[Skip]) -> None:
    rows = [{**asdict(u), "face_choice": choice} for u, choice in usable]
    pd.DataFrame(rows, columns=MANIFEST_COLUMNS).to_csv(tmp / "manifest.csv", index=False)
    table = [{**asdict(s), "outcome": "skipped"} for s in skips] + [{**asdict(n), "outcome": "kept"} for n in notes]
    pd.DataFrame(table, columns=SKIPPED_COLUMNS).to_csv(tmp / "skipped.csv", index=False)


def _move_into_place(tmp: Path, out_dir: Path, key: str) -> None:
    """Rename tmp -> out_dir; an older feature directory there is swapped out, then deleted."""
    old = None
    if out_dir.exists():
        if _is_complete(out_dir, key):  # a concurrent prepare of the same corpus finished first
            return
        old = out_dir.parent / f".{out_dir.name}.old-{uuid.uuid4().hex[:8]}"
        out_dir.rename(old)
    tmp.rename(out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
