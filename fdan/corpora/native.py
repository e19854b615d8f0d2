"""Helpers shared by the native-layout importers: finding media files, speaker folds, option checks.

Speaker-independent folds (`speaker_folds`): the speakers that keep at least one usable utterance
are sorted by id and dealt round-robin, speaker i (0-based, in sorted order) -> fold i mod `folds`.
Every utterance of a speaker is in that speaker's fold, so no speaker is in two folds. The rule is
deterministic (no seed) and stable under adding files of known speakers. Note that with an even
fold count and ids alternating by sex (RAVDESS: odd male, even female) the folds are single-sex;
the RAVDESS default of 5 folds mixes them.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from fdan.corpora.base import CorpusError


def rel(root: Path, path: Path) -> str:
    """`path` relative to `root`, with forward slashes (what Utterance/Skip paths hold)."""
    return path.relative_to(root).as_posix()


def files_with_suffix(folder: Path, suffixes: Sequence[str], recursive: bool = False) -> list[Path]:
    """Regular files in `folder` whose suffix is one of `suffixes` in any letter case (".wav"
    matches "a01.WAV"), sorted by path; hidden files (".DS_Store", "._a01.wav") are ignored."""
    wanted = {s.lower() for s in suffixes}
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in found
                  if p.is_file() and p.suffix.lower() in wanted and not p.name.startswith("."))


def find_dir(root: Path, name: str) -> Path | None:
    """The child folder of `root` called `name`, compared case-insensitively (None if absent)."""
    exact = root / name
    if exact.is_dir():
        return exact
    for child in sorted(root.iterdir()):
        if child.is_dir() and child.name.lower() == name.lower():
            return child
    return None


def nested_hint(root: Path, matches: Callable[[str], bool]) -> str:
    """For a 'not this corpus' error: " (found them in ROOT/x: pass that folder as ROOT)" when a child
    folder of `root` holds a folder whose name `matches` (an extra level from unzipping), else ""."""
    for child in sorted(p for p in root.iterdir() if p.is_dir()):
        if any(g.is_dir() and matches(g.name) for g in child.iterdir()):
            return f" (found them in {child}: pass that folder as ROOT)"
    return ""


def speaker_folds(speakers: Iterable[str], folds: int, corpus: str) -> dict[str, int]:
    """speaker id -> fold in 0..folds-1, round-robin over the sorted ids (module docstring).

    Raises CorpusError when there are fewer speakers than folds (a fold would be empty)."""
    ordered = sorted(set(speakers))
    if len(ordered) < folds:
        raise CorpusError(f"{corpus}: {len(ordered)} speaker(s) with usable utterances, fewer than "
                          f"folds={folds}; lower the importer option `folds`")
    return {spk: i % folds for i, spk in enumerate(ordered)}


def check_folds(folds: object) -> int:
    """The `folds` option as an int >= 2, or a ValueError naming the option."""
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise ValueError(f"option folds={folds!r} must be an integer >= 2 (speaker-independent folds)")
    return folds


def check_choice(option: str, value: object, choices: Sequence[str]) -> str:
    """`value` if it is one of `choices`, else a ValueError naming the option and the choices."""
    if value not in choices:
        raise ValueError(f"option {option}={value!r} is not one of {', '.join(map(repr, choices))}")
    return str(value)
