"""Planted effects of synthetic corpus variants: cue shift (dose), label shift, names, recipe checks."""
from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from fdan.corpora import get_importer, importer_options
from fdan.corpora.synth import DEFAULT_OFFSETS, CueShift
from fdan.corpora.synth.generate import generate, mismatches
from fdan.corpora.synth.generate import make_speakers
from fdan.corpora.synth.conditions import get_conditions
from fdan.corpora.synth.profiles import EMOTIONS, FACE_CUES, VOICE_CUES, Difficulty, sample_cues

SHORT = {"duration_s": (0.6, 0.7)}
CLEAN = {"clip_noise": 0.0, "speaker_bias": 0.0, "ambiguous_rate": 0.0, "intensity_lo": 1.0, "modality_decouple": 0.0}


def _rows(root: Path) -> list[dict[str, str]]:
    with open(root / "labels.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def _media(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.suffix in (".mp4", ".wav")}


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("variants")
    kw = dict(seed=5, speakers=2, clips_per_emotion=2, workers=2, **SHORT)
    return {
        "base": generate(base / "base", "synth-studio", **kw),
        "null": generate(base / "null", "synth-studio", name="synth-null", **kw),
        "dose0": generate(base / "dose0", "synth-studio", name="synth-shift-0", shift={"dose": 0.0}, **kw),
        "dose1": generate(base / "dose1", "synth-studio", name="synth-shift-1.0", shift=CueShift(dose=1.0), **kw),
        "label": generate(base / "label", "synth-studio", name="synth-labelshift", emotion_clips={"neutral": 1, "fear": 0},
                          **kw),
    }


def test_a_name_or_a_zero_dose_changes_no_media_byte(variants: dict[str, Path]) -> None:
    """Variants draw from (seed, base conditions), not from their name: off, they are the base corpus."""
    base = _media(variants["base"])
    assert _media(variants["null"]) == base
    assert _media(variants["dose0"]) == base
    assert (variants["null"] / "labels.csv").read_bytes() == (variants["base"] / "labels.csv").read_bytes()
    meta = json.loads((variants["null"] / "corpus.json").read_text())
    assert (meta["corpus"], meta["base"], meta["version"]) == ("synth-null", "synth-studio", 2)
    assert "shift" not in meta and "emotion_clips" not in meta
    assert "base" not in json.loads((variants["base"] / "corpus.json").read_text())  # unchanged record


def test_shift_changes_every_clip_and_records_the_dose(variants: dict[str, Path]) -> None:
    base, shifted = _media(variants["base"]), _media(variants["dose1"])
    assert base.keys() == shifted.keys()
    assert all(base[k] != shifted[k] for k in base)
    meta = json.loads((variants["dose1"] / "corpus.json").read_text())
    assert meta["shift"] == {"dose": 1.0, "offsets": dict(sorted(DEFAULT_OFFSETS.items()))}


def test_label_shift_is_a_subset_of_the_same_clips(variants: dict[str, Path]) -> None:
    counts = Counter(r["emotion"] for r in _rows(variants["label"]))
    assert counts == {**{e: 2 * 2 for e in EMOTIONS if e not in ("neutral", "fear")}, "neutral": 2}
    base, label = _media(variants["base"]), _media(variants["label"])
    assert label and all(base[k] == v for k, v in label.items())


def test_cue_offsets_move_the_cues_by_dose_times_offset() -> None:
    """Same random stream with and without the shift: the difference is exactly dose x offset (unclipped cues)."""
    cond = get_conditions("synth-studio")
    spk = make_speakers(cond, 0, 1)[0]
    shift = CueShift(dose=0.5)
    for emotion in ("neutral", "sadness"):
        a = sample_cues(emotion, spk, np.random.default_rng(3), Difficulty())
        b = sample_cues(emotion, spk, np.random.default_rng(3), Difficulty(), face_offset=shift.face(),
                        voice_offset=shift.voice())
        for cues, names in ((("face"), FACE_CUES), (("voice"), VOICE_CUES)):
            for c in names:
                want = 0.5 * DEFAULT_OFFSETS.get(c, 0.0)
                assert getattr(b, cues)[c] - getattr(a, cues)[c] == pytest.approx(want, abs=1e-9), (emotion, c)


def _median_f0(x: np.ndarray, sr: int) -> float:
    """Median autocorrelation F0 over voiced 40 ms frames."""
    n, f0s = int(0.04 * sr), []
    lo, hi = int(sr / 400), int(sr / 60)
    for i in range(0, len(x) - n, n):
        w = x[i:i + n] - x[i:i + n].mean()
        if np.sqrt(np.mean(w**2)) < 0.02:
            continue
        ac = np.correlate(w, w, "full")[n - 1:]
        f0s.append(sr / (lo + int(np.argmax(ac[lo:hi]))))
    return float(np.median(f0s))


def test_the_planted_pitch_shift_is_in_the_audio(tmp_path: Path) -> None:
    """Dose 1 raises F0 by DEFAULT_OFFSETS['f0_shift'] = 3 semitones (x 1.19) in the written audio."""
    kw = dict(seed=2, speakers=1, clips_per_emotion=1, workers=1, difficulty=CLEAN, duration_s=(1.5, 1.6))
    a = generate(tmp_path / "a", "synth-studio", **kw)
    b = generate(tmp_path / "b", "synth-studio", shift={"dose": 1.0}, **kw)
    ratios = []
    for r in _rows(a):
        if r["emotion"] in ("neutral", "sadness", "disgust"):  # far from the F0 limit
            xa, sr = sf.read(str(a / r["audio_path"]), dtype="float32")
            xb, _ = sf.read(str(b / r["audio_path"]), dtype="float32")
            ratios.append(_median_f0(xb, sr) / _median_f0(xa, sr))
    assert 2 ** (2 / 12) < float(np.median(ratios)) < 2 ** (4 / 12), ratios


def test_mismatches_name_each_differing_field(variants: dict[str, Path]) -> None:
    kw = dict(seed=5, speakers=2, clips_per_emotion=2, **SHORT)
    assert mismatches(variants["dose1"], "synth-studio", name="synth-shift-1.0", shift={"dose": 1.0}, **kw) == []
    assert mismatches(variants["base"], "synth-studio", **kw) == []
    differ = mismatches(variants["dose1"], "synth-studio", name="synth-shift-1.0", shift={"dose": 0.5},
                        **{**kw, "seed": 6})
    assert [d.split(":")[0] for d in differ] == ["seed", "shift.dose"]
    differ = mismatches(variants["label"], "synth-studio", name="synth-labelshift", **{**kw, "speakers": 3})
    assert {d.split(":")[0] for d in differ} == {"emotion_clips.fear", "emotion_clips.neutral", "speakers"}
    differ = mismatches(variants["base"], "synth-street", **kw)
    assert "corpus: on disk \"synth-studio\", asked \"synth-street\"" in differ
    assert mismatches(variants["base"].parent / "nowhere", **kw)[0].startswith("corpus.json: cannot be read")


def test_bad_variant_arguments_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"dose 2.5 must be in \[0, 2\]"):
        CueShift(dose=2.5)
    with pytest.raises(ValueError, match="unknown shift cue"):
        CueShift(dose=1.0, offsets={"f0": 1.0})
    with pytest.raises(ValueError, match="unknown emotion"):
        generate(tmp_path / "x", emotion_clips={"joy": 2})
    with pytest.raises(ValueError, match="no clip at all"):
        generate(tmp_path / "y", clips_per_emotion=1, emotion_clips={e: 0 for e in EMOTIONS})
    with pytest.raises(ValueError, match="contain no '/'"):
        generate(tmp_path / "z", name="a/b")


def test_importer_folds_option(variants: dict[str, Path]) -> None:
    assert importer_options("synth") == ["folds"]
    loso = get_importer("synth").scan(variants["base"])
    assert sorted({u.fold for u in loso.utterances}) == [0, 1]
    one = get_importer("synth", folds=2).scan(variants["base"])
    assert {u.speaker: u.fold for u in one.utterances} == {"stu01": 0, "stu02": 1}
    with pytest.raises(Exception, match="folds"):
        get_importer("synth", folds=3).scan(variants["base"])
    # only a non-default fold count names the feature cache (caches read without it keep their names)
    assert get_importer("synth").settings() == {} and get_importer("synth", folds=2).settings() == {"folds": 2}


def test_corpus_cues_are_the_generators_draws_and_the_shift_is_their_translation(variants: dict[str, Path]) -> None:
    from fdan.corpora.synth.cues import CUE_COLUMNS, corpus_cues

    kw = dict(seed=5, speakers=2, clips_per_emotion=2, **SHORT)
    recipes = {"base": {}, "dose1": dict(name="synth-shift-1.0", shift={"dose": 1.0}),
               "label": dict(name="synth-labelshift", emotion_clips={"neutral": 1, "fear": 0})}
    cues = {k: corpus_cues("synth-studio", **kw, **r) for k, r in recipes.items()}
    for key, table in cues.items():  # same clips, same order, and the intensities labels.csv recorded
        rows = _rows(variants[key])
        assert table["utterance_id"].tolist() == [r["utterance_id"] for r in rows]
        assert table["emotion"].tolist() == [r["emotion"] for r in rows]
        for col in ("face_intensity", "voice_intensity"):
            assert [f"{v:.4f}" for v in table[col]] == [r[col] for r in rows]
    base, dose1 = cues["base"][list(CUE_COLUMNS)].to_numpy(), cues["dose1"][list(CUE_COLUMNS)].to_numpy()
    offset = np.concatenate([CueShift(dose=1.0).face(), CueShift(dose=1.0).voice()])  # CUE_COLUMNS order
    moved = dose1 - base
    assert not np.allclose(offset, 0)
    inside = np.isclose(moved, offset)  # a planted offset moves every cue not clipped at its limit by exactly that
    assert inside.mean() > 0.9 and np.allclose(moved[:, offset == 0], 0)
    label = cues["label"].set_index("utterance_id")
    assert np.allclose(label[list(CUE_COLUMNS)], cues["base"].set_index("utterance_id").loc[label.index, list(CUE_COLUMNS)])
