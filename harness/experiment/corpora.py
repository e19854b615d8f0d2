"""Make an experiment's corpora ready: generate missing synthetic corpora, prepare feature caches.

A missing real corpus is a `CorpusMissing` error naming the root the config expects and how to
prepare it (the corpus section's `prepare_hint`), raised before any Ray work starts. Feature caches
live where `fdan.features.cache_name.cache_dir_for` puts them under `cache_dir` (the scanned corpus
name, the feature config, the importer and its options), the same directory `fdan-bench prepare
--cache-dir` writes, so a corpus prepared by hand is a cache hit here.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable

from fdan.corpora.base import CorpusError
from fdan.features.cache import prepare_corpus
from fdan.features.token_cache import prepare_tokens, token_dir
from harness.config import CorpusSpec, ExperimentConfig
from harness.config.data_sections import SynthSpec
from harness.errors import InputError
from harness.experiment.prepare import ray_map


class CorpusMissing(InputError, RuntimeError):
    """A corpus that cannot be used: its root is missing (and cannot be generated) or matches no layout."""


def check_roots(cfg: ExperimentConfig, names: list[str]) -> None:
    """Raise CorpusMissing for every non-synthetic corpus whose root is missing (all named at once)."""
    problems = []
    for name in names:
        spec = cfg.corpora[name]
        if spec.synth is None and not spec.root.is_dir():
            hint = spec.prepare_hint or f"place the {spec.importer} release there as distributed, or set corpora.{name}.root"
            problems.append(f"corpus {name!r}: expected its root at {spec.root.resolve()} (corpora.{name}.root) but it "
                            f"does not exist. {hint}")
    if problems:
        raise CorpusMissing("\n".join(problems))


def synth_args(s: SynthSpec) -> dict[str, Any]:
    """The keyword arguments of `fdan.corpora.synth.generate.generate` (and `mismatches`, `cues.corpus_cues`) for a `synth:` block."""
    return dict(corpus=s.corpus, seed=s.seed, speakers=s.speakers, clips_per_emotion=s.clips_per_emotion, name=s.name,
                shift=s.shift.model_dump(exclude_none=True) if s.shift else None,
                emotion_clips=s.emotion_clips or None, **s.conditions)


def ensure_root(name: str, spec: CorpusSpec, log: Callable[[str], None] = print) -> Path:
    """The corpus root, generating a synthetic corpus there on first use.

    An existing synthetic root made from other settings than the `synth:` block (its corpus.json
    differs) is a CorpusMissing error naming each differing field, never silently reused."""
    root = spec.root.resolve()
    if spec.synth is None:
        return root
    from fdan.corpora.synth.generate import generate, mismatches  # lazy: the generator brings scipy, OpenCV, PyAV

    args = synth_args(spec.synth)
    if root.is_dir() and any(root.iterdir()):
        differ = mismatches(root, **args)
        if differ:
            raise CorpusMissing(f"corpus {name!r}: {root} holds a corpus generated from other settings than "
                                f"corpora.{name}.synth ({'; '.join(differ)}). Delete {root} to generate it "
                                "again (its feature cache is keyed by the files and is rebuilt), or restore the settings")
        return root
    log(f"generating synthetic corpus {name!r} ({spec.synth.name or spec.synth.corpus}) under {root}")
    generate(root, **args)
    return root


def _map_fn():
    """Ray-task map over the connected cluster's CPUs for feature extraction (harness.experiment.prepare)."""
    import ray

    return ray_map(workers=max(1, int(ray.cluster_resources().get("CPU", 1))), cpus_per_task=1.0)


def prepare_corpora(cfg: ExperimentConfig, names: list[str], log: Callable[[str], None] = print,
                    use_ray: bool = True) -> dict[str, Path]:
    """Feature-cache directory per corpus (prepared once; a cache hit decodes nothing).

    `use_ray`: extract in Ray tasks (Ray must be initialised), else in this process. Two corpora of
    the experiment that would share one cache directory (same release read twice from two roots) are
    refused: the second would replace the first one's features.
    """

    check_roots(cfg, names)
    map_fn = _map_fn() if use_ray else None
    out: dict[str, Path] = {}
    for name in names:
        spec = cfg.corpora[name]
        root = ensure_root(name, spec, log)
        try:
            res = prepare_corpus(spec.importer, root, cfg=cfg.features, map_fn=map_fn, options=spec.options,
                                 cache_root=cfg.cache_dir)
        except (CorpusError, FileExistsError) as exc:
            raise CorpusMissing(f"corpus {name!r} (corpora.{name}.root = {root}): {exc}") from None
        clash = [other for other, d in out.items() if d == Path(res.out_dir)]
        if clash:
            raise CorpusMissing(f"corpora {clash[0]!r} and {name!r} are the same corpus with the same importer "
                                f"options and features, so they share the cache {res.out_dir}; list it once")
        note = "cached" if res.cache_hit else f"{res.n_usable} usable, {res.n_skipped} skipped"
        log(f"corpus {name!r}: features at {res.out_dir} ({note})")
        out[name] = Path(res.out_dir)
    return out


def prepare_token_caches(configs: Iterable[ExperimentConfig], dirs: dict[str, Path], log: Callable[[str], None] = print) -> None:
    """Frozen trunks (`model.freeze_backbone`): their outputs on every corpus, computed here once, before any
    unit runs (a cache hit on later runs), for each distinct trunk setting among `configs` (the variants).
    Every trial then only reads them (`fdan.features.token_cache.TokenSet`)."""

    done: set[Path] = set()
    for cfg in configs:
        if not cfg.model.freeze_backbone:
            continue
        for name, directory in dirs.items():
            if token_dir(directory, cfg.model) not in done:
                out = prepare_tokens(directory, cfg.model)
                done.add(out)
                log(f"corpus {name!r}: frozen-trunk outputs at {out}")
