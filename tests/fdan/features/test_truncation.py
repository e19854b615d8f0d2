"""Nothing partial passes silently: clips cut off by us in every container the importers read (flv,
avi, mp4), label segments past the video's end, and a broken wav replaced by its video's audio."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from fdan.config import FeatureConfig
from fdan.corpora.base import Utterance
from fdan.features import extract_utterance
from fdan.features.decode import MediaError, decode_audio, decode_video_frames
from tests.fdan.features.conftest import tone, write_clip

CFG = FeatureConfig(n_mels=32, n_fft=512, face_size=32, n_frames=4, clip_seconds=1.0, face_detector="center")


def _cut(path: Path, fraction: float) -> Path:
    data = path.read_bytes()
    out = path.with_name(f"cut_{path.name}")
    out.write_bytes(data[:int(len(data) * fraction)])
    return out


@pytest.mark.parametrize("suffix,faststart", [(".flv", False), (".avi", False), (".mp4", True)])
def test_whole_clips_pass_and_cut_ones_are_caught(tmp_path: Path, suffix: str, faststart: bool):
    whole = write_clip(tmp_path / f"clip{suffix}", seconds=2.0, fps=10, faststart=faststart)
    assert decode_video_frames(whole, 4).shape[0] == 4
    assert decode_audio(whole)[0].size > 0
    cut = _cut(whole, 0.7)
    with pytest.raises(MediaError, match="truncated video stream"):
        decode_video_frames(cut, 4)


@pytest.mark.parametrize("suffix,faststart", [(".flv", False), (".mp4", True)])
def test_cut_container_audio_is_caught(tmp_path: Path, suffix: str, faststart: bool):
    cut = _cut(write_clip(tmp_path / f"clip{suffix}", seconds=2.0, fps=10, faststart=faststart), 0.7)
    with pytest.raises(MediaError, match="truncated"):
        decode_audio(cut)


def test_cremad_like_truncated_flv_is_skipped_with_its_reason(tmp_path: Path):
    """CREMA-D: audio from the wav, faces from the flv; a cut flv skips the row, naming the flv."""
    write_clip(tmp_path / "clip.flv", seconds=2.0, fps=10)
    _cut(tmp_path / "clip.flv", 0.6).rename(tmp_path / "v.flv")
    sf.write(tmp_path / "a.wav", tone(2.0, 16000), 16000)
    utt = Utterance("cremad", "1001_DFA_ANG_XX", "1001", "ANG", "anger", "all", 0, "a.wav", "v.flv")
    with pytest.raises(MediaError, match="truncated video stream") as err:
        extract_utterance(tmp_path, utt, CFG)
    assert err.value.path == "v.flv"


@pytest.mark.parametrize("suffix", [".flv", ".avi"])
def test_broken_wav_falls_back_to_the_containers_audio(tmp_path: Path, suffix: str):
    """SAVEE (avi) / CREMA-D (flv): the wav is cut off, the video carries the recording's audio."""
    write_clip(tmp_path / f"v{suffix}", seconds=2.0, fps=10)  # 22.05 kHz: flv cannot hold 16 kHz mp3
    sf.write(tmp_path / "full.wav", tone(2.0, 16000), 16000, subtype="PCM_16")
    (tmp_path / "a.wav").write_bytes((tmp_path / "full.wav").read_bytes()[:20000])
    utt = Utterance("savee", "DC_a01", "DC", "a", "anger", "all", 0, "a.wav", f"v{suffix}")
    ex = extract_utterance(tmp_path, utt, CFG)
    assert ex.face_mask.all() and ex.mel_len > 0
    assert len(ex.notes) == 1 and ex.notes[0][0] == "a.wav"
    assert "truncated wav" in ex.notes[0][1] and f"audio stream of v{suffix}" in ex.notes[0][1]
    # the same row with a video that has no audio stream is skipped, with the wav's own reason
    write_clip(tmp_path / f"mute{suffix}", seconds=2.0, fps=10, audio=None)
    with pytest.raises(MediaError, match="truncated wav") as err:
        extract_utterance(tmp_path, Utterance("savee", "DC_a01", "DC", "a", "anger", "all", 0, "a.wav",
                                              f"mute{suffix}"), CFG)
    assert err.value.path == "a.wav"


@pytest.mark.parametrize("seconds", [2.0, 32.0])  # demuxed whole / read by seeking (dialog-long files)
def test_label_segment_past_the_video_end_is_caught(tmp_path: Path, seconds: float):
    """IEMOCAP: a turn whose label times run past the dialog video's end (a cut-off avi)."""
    write_clip(tmp_path / "dialog.avi", seconds=seconds, fps=5, size=(48, 64), audio=None)
    sf.write(tmp_path / "turn.wav", tone(1.0, 16000), 16000)
    inside = Utterance("iemocap", "Ses01F_impro01_F000", "Ses01_F", "neu", "neutral", "all", 0, "turn.wav",
                       "dialog.avi", start=seconds - 1.2, end=seconds - 0.2)
    assert extract_utterance(tmp_path, inside, CFG).face_mask.any()
    past = Utterance("iemocap", "Ses01F_impro01_F001", "Ses01_F", "neu", "neutral", "all", 0, "turn.wav",
                     "dialog.avi", start=seconds - 0.5, end=seconds + 0.5)
    with pytest.raises(MediaError, match="before its label segment's end"):
        extract_utterance(tmp_path, past, CFG)


def test_wav_shorter_than_its_label_is_kept_with_a_note(tmp_path: Path):
    write_clip(tmp_path / "dialog.avi", seconds=3.0, fps=5, size=(48, 64), audio=None)
    sf.write(tmp_path / "turn.wav", tone(0.8, 16000), 16000)
    utt = Utterance("iemocap", "Ses01F_impro01_F000", "Ses01_F", "neu", "neutral", "all", 0, "turn.wav",
                    "dialog.avi", start=0.5, end=2.5)
    ex = extract_utterance(tmp_path, utt, CFG)
    assert ex.notes == [("turn.wav", "audio (0.80 s) shorter than its label segment (2.00 s): kept")]
    assert np.isfinite(ex.mel.astype(np.float32)).all()
