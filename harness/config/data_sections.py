"""The data sections of the experiment schema: corpora (with synthetic-corpus generation and planted shifts)
and the pairs that run (harness.config.schema composes them)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from fdan.corpora.synth.shift import check_clip_counts, check_shift
from harness.config.section import Section


class ShiftSpec(Section):
    """A planted cue shift (fdan.corpora.synth.shift.CueShift): `dose` x `offsets` added to the cues."""

    dose: float = Field(..., ge=0.0, le=2.0)
    offsets: dict[str, float] | None = Field(None, description="cue -> offset at dose 1; None = shift.DEFAULT_OFFSETS")

    @model_validator(mode="after")
    def _known_cues(self) -> "ShiftSpec":
        check_shift(self.model_dump(exclude_none=True))
        return self


class SynthSpec(Section):
    """Generate-if-missing parameters for a synthetic corpus (fdan.corpora.synth.generate); an existing
    root made from other parameters is refused (harness.experiment.corpora.ensure_root)."""

    corpus: Literal["synth-studio", "synth-street"] = Field("synth-studio", description="the named conditions drawn from")
    name: str | None = Field(None, description="the generated corpus' name (default: corpus); same corpus + seed = same draws")
    seed: int = 0
    speakers: int = Field(4, ge=2)
    clips_per_emotion: int = Field(3, ge=1)
    emotion_clips: dict[str, int] = Field(default_factory=dict, description="label shift: clips of these emotions, e.g. {neutral: 2}")
    shift: ShiftSpec | None = Field(None, description="planted cue shift, e.g. {dose: 1.0}")
    conditions: dict[str, Any] = Field(
        default_factory=dict, description="overrides of the corpus' recording conditions, e.g. {duration_s: [1.0, 1.5]}"
    )

    @model_validator(mode="after")
    def _counts(self) -> "SynthSpec":
        if self.emotion_clips:
            check_clip_counts(self.clips_per_emotion, self.emotion_clips)
        return self


class CorpusSpec(Section):
    """One corpus: where its release lives and which importer reads it."""

    importer: str = Field(..., description="importer name (fdan.corpora), e.g. savee, meld, synth")
    root: Path = Field(..., description="the corpus as released; relative paths are relative to the working directory")
    synth: SynthSpec | None = Field(None, description="synthetic corpora only: generated under root when root is missing")
    prepare_hint: str | None = Field(None, description="shown when root is missing: how to obtain / lay out the corpus")
    options: dict[str, Any] = Field(
        default_factory=dict, description="importer options, e.g. {calm: merge} for ravdess (fdan.corpora.importer_options)"
    )


class PairSpec(Section):
    source: str
    target: str


class PairsConfig(Section):
    """Which (source, target) pairs run. Within-corpus pairs use speaker-independent folds."""

    within: list[str] | Literal["all"] = Field(default_factory=list, description="corpora trained and tested on themselves")
    cross: list[PairSpec] | Literal["all"] = Field(default_factory=list, description="source->target pairs; 'all' = every ordered pair")
    folds: list[int] | None = Field(None, description="only these fold numbers (None = every fold of the corpus)")
    max_folds: int | None = Field(None, ge=1, description="at most this many folds per pair (first ones)")
    cross_folds: Literal["target", "none"] = Field(
        "target",
        description="target: target-corpus folds, unlabelled adaptation on the other target speakers, test on the fold; "
        "none: one transductive unit (adapt and test on all target rows)",
    )
    labels: list[str] | None = Field(None, description="restrict every pair's label space to these canonical labels")
    oracle: bool | list[str] = Field(False, description="also an `oracle` unit per cross-corpus unit: trained on the labelled "
                                     "target speakers of the other folds, tested on the same held-out fold (the ceiling row); "
                                     "true: under every variant, a list of variant names: under those only")


