"""`fdan-bench synth OUT_DIR --corpus NAME`: write a synthetic emotion corpus of real mp4/wav files."""
from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fdan.corpora.synth import DEFAULT_OFFSETS, EMOTIONS
from fdan.corpora.synth.conditions import CORPORA
from fdan.corpora.synth.generate import generate
from fdan.corpora.synth.importer import SynthImporter


def synth(
    out_dir: Path = typer.Argument(..., help="directory to write the corpus into (created; must be empty or a synth corpus)"),
    corpus: str = typer.Option("synth-studio", "--corpus", help=f"named corpus: {', '.join(sorted(CORPORA))}"),
    seed: int = typer.Option(0, "--seed", help="random seed; the same seed writes the same corpus"),
    speakers: int = typer.Option(4, "--speakers", min=1, help="number of speakers"),
    clips_per_emotion: int = typer.Option(3, "--clips-per-emotion", min=1, help="clips per speaker and emotion"),
    workers: int = typer.Option(0, "--workers", min=0, help="worker processes (0 = automatic)"),
    name: str | None = typer.Option(None, "--name", help="the corpus' name (default: --corpus); draws depend on --corpus and --seed only"),
    dose: float | None = typer.Option(None, "--dose", min=0.0, max=2.0, help="plant the default cue shift at this dose (0..2)"),
    emotion_clips: list[str] = typer.Option([], "--emotion-clips", help="label shift: EMOTION=N clips (repeatable), e.g. neutral=2"),
) -> None:
    """Generate a synthetic multi-modal emotion corpus (rendered faces + speech-like audio, 7 emotions)."""
    console = Console()
    if corpus not in CORPORA:
        console.print(f"[red]error:[/red] unknown corpus {corpus!r}; known: {', '.join(sorted(CORPORA))}")
        raise typer.Exit(2)
    try:
        counts_asked = {k.strip(): int(v) for k, v in (item.split("=", 1) for item in emotion_clips)}
    except ValueError:
        console.print(f"[red]error:[/red] --emotion-clips takes EMOTION=N, got {emotion_clips}")
        raise typer.Exit(2) from None
    start = time.perf_counter()
    total = speakers * sum(counts_asked.get(e, clips_per_emotion) for e in EMOTIONS)
    with Progress(TextColumn(f"[bold]{corpus}[/bold]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("clips", total=total)
        try:
            root = generate(out_dir, corpus, seed=seed, speakers=speakers, clips_per_emotion=clips_per_emotion,
                            name=name, shift=None if dose is None else {"dose": dose},
                            emotion_clips=counts_asked or None, workers=workers or None, progress=lambda done, _n: bar.update(task, completed=done))
        except ValueError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
    elapsed = time.perf_counter() - start
    scan = SynthImporter().scan(root)
    cond = CORPORA[corpus]
    counts = Counter(u.label for u in scan.utterances)

    table = Table(title=f"{name or corpus} → {root}", show_header=False)
    table.add_row("conditions", cond.description)
    table.add_row("clips", f"{len(scan.utterances)} ({speakers} speakers × 7 emotions × {clips_per_emotion})"
                  if not counts_asked else f"{len(scan.utterances)} ({speakers} speakers, per-emotion counts)")
    if dose is not None:
        table.add_row("cue shift", f"dose {dose:g} × {DEFAULT_OFFSETS}")
    table.add_row("per emotion", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    table.add_row("video", f"H.264 {cond.width}×{cond.height} @ {cond.fps} fps")
    audio = "AAC inside the mp4" if cond.audio_store == "aac" else "16-bit wav beside the mp4"
    table.add_row("audio", f"{cond.sample_rate} Hz, {audio}")
    table.add_row("seed", str(seed))
    table.add_row("time", f"{elapsed:.1f} s")
    if scan.skipped:
        table.add_row("skipped", str(len(scan.skipped)))
    console.print(table)
    console.print(f"import with importer [bold]synth[/bold]: root {root}")
