"""The FDAN paper's reported figures (arXiv 2410.22023) and the leaderboard cell that shows them beside ours."""
from __future__ import annotations

BOTH_MODALITIES = "audio+face"
DASH = "–"

# FDAN paper (arXiv 2410.22023), within-corpus WAR / UAR in percent, keyed by lower-case corpus name
PAPER_RESULTS: dict[str, tuple[float, float]] = {"savee": (86.66, 86.19), "meld": (81.16, 75.91)}
# The same paper's single-modality baselines (its Table: trunk trained alone, no adaptation), by (corpus, trunk)
PAPER_BASELINES: dict[tuple[str, str], tuple[float, float]] = {
    ("savee", "resnet18"): (59.37, 59.01), ("savee", "resnet34"): (69.79, 70.33), ("savee", "resnet50"): (68.75, 68.31),
    ("savee", "vgg16"): (64.58, 63.33), ("savee", "vgg19"): (67.70, 66.41),
    ("meld", "resnet18"): (58.68, 59.80), ("meld", "resnet34"): (63.82, 63.10), ("meld", "resnet50"): (61.02, 60.31),
    ("meld", "vgg16"): (50.31, 49.51), ("meld", "vgg19"): (54.53, 54.08),
}
# Speakers the paper trained on per fold where ours may differ (SAVEE leave-one-speaker-out without validation)
PAPER_TRAIN_SPEAKERS: dict[str, int] = {"savee": 3}


def paper_cell(source: str, target: str, method: str = "fdan", modalities: str = BOTH_MODALITIES,
               backbone: str | None = None) -> str:
    """The paper's "WAR / UAR" where it reports that corpus and method, else "–".

    Within-corpus SAVEE or MELD only (case-insensitive): ``fdan`` on both modalities → the FDAN row;
    ``source_only`` on one modality → the paper's single-modality baseline with the same trunk
    (ResNet-18/34/50, VGG-16/19). The paper reports no MMD / CORAL / DANN / DSAN rows.
    """
    key = str(source).strip().lower()
    if key != str(target).strip().lower():
        return DASH
    both = str(modalities) in (BOTH_MODALITIES, "face+audio", "nan", "None")
    if str(method) == "fdan" and both and key in PAPER_RESULTS:
        war, uar = PAPER_RESULTS[key]
    elif str(method) == "source_only" and not both and (key, str(backbone)) in PAPER_BASELINES:
        war, uar = PAPER_BASELINES[(key, str(backbone))]
    else:
        return DASH
    return f"{war:.2f} / {uar:.2f}"
