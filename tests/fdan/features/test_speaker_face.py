"""The speaking person's face: two faces in frame, one talking with the audio, on either side (IEMOCAP, MELD)."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from fdan.config import FeatureConfig
from fdan.corpora.base import Utterance
from fdan.features import extract_utterance
from fdan.features.speaker_face import choose_speaker, interval_energy
from tests.fdan.features.conftest import GREEN_SKIN, RED_SKIN, draw_faces

CFG = FeatureConfig(n_mels=32, n_fft=512, face_size=48, n_frames=8, clip_seconds=3.0)
FPS, SR, SECONDS, SPEECH_END = 10, 16000, 3.0, 1.5


def _openings(seed: int, moving: np.ndarray) -> np.ndarray:
    """Mouth opening per video frame: random (talking) where `moving`, else a still 0.1."""
    rng = np.random.default_rng(seed)
    return np.where(moving, rng.uniform(0.03, 0.25, moving.size), 0.1)


def _scene(talker: str, listener_chews: bool = True, talker_talks: bool = True):
    """(frames (N, 240, 320, 3), wave): red face left, green face right; speech (a tone whose loudness
    follows the talker's mouth) for the first 1.5 s, then silence. The talker's mouth moves while it
    speaks; the listener's mouth is still then and (`listener_chews`) moves in the silence after."""
    n = int(SECONDS * FPS)
    t = np.arange(n) / FPS
    speech = t < SPEECH_END
    talk = _openings(1, speech & talker_talks)
    other = _openings(2, ~speech & listener_chews)
    left, right = (talk, other) if talker == "left" else (other, talk)
    frames = np.stack([draw_faces([(80, 120, 40, RED_SKIN), (240, 120, 40, GREEN_SKIN)], mouths=[left[i], right[i]])
                       for i in range(n)])
    ts = np.arange(int(SECONDS * SR)) / SR
    frame_of = np.minimum((ts * FPS).astype(int), n - 1)
    loud = np.where(ts < SPEECH_END, talk[frame_of] * 3, 0.0)
    wave = (loud * np.sin(2 * np.pi * 220 * ts)).astype(np.float32)
    return frames, wave


def _write(path: Path, frames: np.ndarray, wave: np.ndarray | None) -> Path:
    """An mp4 (H.264 + AAC) or avi (mpeg4 + mp3, as IEMOCAP's dialog videos) of the frames and audio."""
    vcodec, acodec = ("libx264", "aac") if path.suffix == ".mp4" else ("mpeg4", "mp3")
    with av.open(str(path), "w") as out:
        vs = out.add_stream(vcodec, rate=FPS)
        vs.height, vs.width, vs.pix_fmt = 240, 320, "yuv420p"
        vs.bit_rate = 4_000_000  # mpeg4's default rate blurs these small faces past detection
        if wave is not None:
            a = out.add_stream(acodec, rate=SR, layout="mono")
            fmt, size = a.codec_context.format.name, a.codec_context.frame_size or 1024
            for start in range(0, wave.size, size):
                chunk = wave[None, start:start + size]
                chunk = (chunk * 32767).astype(np.int16) if fmt.startswith("s16") else chunk
                af = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format=fmt, layout="mono")
                af.sample_rate, af.pts, af.time_base = SR, start, Fraction(1, SR)
                for pkt in a.encode(af):
                    out.mux(pkt)
            for pkt in a.encode(None):
                out.mux(pkt)
        for f in frames:
            for pkt in vs.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                out.mux(pkt)
        for pkt in vs.encode(None):
            out.mux(pkt)
    return path


def _skins(crops: np.ndarray) -> set[str]:
    s = crops.shape[-1]
    c = crops.astype(int)[:, :, s // 3:2 * s // 3, s // 3:2 * s // 3]
    return {"red" if (c[i, 0] - c[i, 1]).mean() > 0 else "green" for i in range(len(c))}


@pytest.mark.parametrize("talker,skin", [("left", "red"), ("right", "green")])
def test_meld_like_clip_gives_the_talking_face_on_either_side(tmp_path: Path, talker: str, skin: str):
    frames, wave = _scene(talker)
    _write(tmp_path / "clip.mp4", frames, wave)
    utt = Utterance("meld", "u", "s", "joy", "happiness", "train", -1, "", "clip.mp4", face_rule="speaker")
    ex = extract_utterance(tmp_path, utt, CFG)
    assert ex.face_choice == "speaker" and _skins(ex.faces) == {skin}
    # the largest rule does not look at the audio: one face, whichever side talks
    largest = extract_utterance(tmp_path, Utterance("meld", "u", "s", "joy", "happiness", "train", -1, "",
                                                    "clip.mp4"), CFG)
    assert largest.face_choice == "largest" and len(_skins(largest.faces)) == 1


@pytest.mark.parametrize("talker,skin", [("left", "red"), ("right", "green")])
def test_iemocap_like_turn_gives_its_speaker_from_the_dialog_video(tmp_path: Path, talker: str, skin: str):
    """The turn's own wav (the utterance) and the dialog avi cut to the label times, 2 s into it."""
    frames, wave = _scene(talker)
    lead = np.repeat(frames[:1], 2 * FPS, axis=0)  # 2 s of the dialog before the turn
    _write(tmp_path / "dialog.avi", np.concatenate([lead, frames]), None)
    sf.write(tmp_path / "turn.wav", wave, SR)
    utt = Utterance("iemocap", "Ses01F_impro01_M000", "Ses01_M", "neu", "neutral", "all", 0, "turn.wav",
                    "dialog.avi", start=2.0, end=2.0 + SECONDS, face_rule="speaker")
    ex = extract_utterance(tmp_path, utt, CFG)
    assert ex.face_choice == "speaker" and _skins(ex.faces) == {skin} and ex.face_mask.all()


def test_faces_that_cannot_be_told_apart_are_flagged_undecided(tmp_path: Path):
    """Nobody's mouth moves while there is speech: undecided, and the largest rule's face is used."""
    frames, wave = _scene("left", listener_chews=False, talker_talks=False)
    wave = (0.3 * np.sin(2 * np.pi * 220 * np.arange(wave.size) / SR)).astype(np.float32)
    _write(tmp_path / "still.mp4", frames, wave)
    utt = Utterance("meld", "u", "s", "joy", "happiness", "train", -1, "", "still.mp4", face_rule="speaker")
    ex = extract_utterance(tmp_path, utt, CFG)
    assert ex.face_choice == "undecided" and len(_skins(ex.faces)) == 1


def test_energy_weighting_prefers_the_mouth_that_moves_with_the_sound():
    frames, wave = _scene("left")
    idx = (np.arange(8) + 0.5) * len(frames) / 8
    sampled = frames[idx.astype(int)]
    energy = interval_energy(wave, SR, idx / FPS)
    assert energy[:3].min() > 10 * energy[-3:].max()  # speech first, silence after
    left = [(40, 68, 80, 104)] * 8  # boxes around the two drawn faces (x, y, w, h)
    right = [(200, 68, 80, 104)] * 8
    assert choose_speaker(sampled, [left, right], energy) == 0
    assert choose_speaker(sampled, [right, left], energy) == 1
    assert choose_speaker(sampled, [left, right], np.zeros_like(energy)) is None  # silence: undecided
