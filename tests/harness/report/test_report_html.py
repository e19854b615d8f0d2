"""report.html: one self-contained page (figures inlined, nothing fetched) with every section the issue asks for;
and a real headless Chromium rendering it (skipped, with the reason, where no browser is installed)."""
from __future__ import annotations

import base64
import re
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.image import imread

from harness.report.render import render_report
from harness.results.io import write_results

from ..results_data import make_inputs
from .browser import find_browser, visit


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "toy"
    write_results(out, **make_inputs("toy"))
    render_report(out)
    return out / "report.html"


def test_self_contained_with_every_section(report):
    page = report.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)=["'](https?:|//|plots/)""", page)  # nothing fetched, no file beside it
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
    # hparams, cross-corpus heat map, per pair (2) pooled confusion matrices and learning curves
    assert len(images) == 6
    for data in images:
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    for text in ("Leaderboard", "65.00 ± 7.07", "Per-class test results (2 fold(s) pooled)", "fused R / P / F1",
                 "confusion matrices, 2 fold(s) pooled", "learning curves", "parameter importance (within-corpus) "
                 "not drawn", "configuration (config.resolved.yaml)", "environment (env.json)", "savee→meld"):
        assert text in page, text
    assert "<script" not in page


def test_text_is_escaped(tmp_path):
    inputs = make_inputs("toy")
    inputs["config"]["label"] = "<script>alert(1)</script>"
    write_results(tmp_path / "toy", **inputs)
    render_report(tmp_path / "toy")
    page = (tmp_path / "toy" / "report.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_chromium_renders_the_report(report, tmp_path):
    browser = find_browser()
    if browser is None:
        pytest.skip("no Chromium on PATH (chromium, chromium-browser, google-chrome or $CHROMIUM): "
                    "`apt-get install chromium` (.ci/run installs it)")
    shot = tmp_path / "report.png"
    seen = visit(browser, report, shot)
    assert seen.errors == []
    assert seen.title == "fdan-bench report — toy"
    assert len(seen.images) == 6
    assert all(i["complete"] and i["width"] > 100 and i["height"] > 100 for i in seen.images), seen.images
    pixels = imread(shot)
    assert pixels.shape[1] >= 1400 and pixels.shape[0] == seen.size[1] > 2000  # the whole page, figures included
    assert float(pixels[..., :3].std()) > 0.05  # not a blank page


def test_variants_get_a_section_and_figures_each(tmp_path):
    inputs = make_inputs("toy")
    trials, confusions = inputs["trials"], inputs["confusions"]
    dann = trials.assign(variant="dann", trial_id=trials["trial_id"] + "d")
    inputs["trials"] = pd.concat([trials.assign(variant="fdan"), dann], ignore_index=True)
    inputs["confusions"] = confusions + [dict(c, trial_id=c["trial_id"] + "d") for c in confusions]
    inputs["metrics"] = pd.concat([inputs["metrics"], inputs["metrics"].assign(trial_id=inputs["metrics"]["trial_id"] + "d")])
    write_results(tmp_path / "toy", **inputs)
    rendered = render_report(tmp_path / "toy")
    names = sorted(p.name for p in (tmp_path / "toy" / "plots").glob("confusion_*.png"))
    assert names == ["confusion_savee_meld_speaker-independent_dann.png", "confusion_savee_meld_speaker-independent_fdan.png",
                     "confusion_savee_speaker-independent_dann.png", "confusion_savee_speaker-independent_fdan.png"]
    page = (tmp_path / "toy" / "report.html").read_text()
    for title in ("savee — fdan [speaker-independent]", "savee→meld — dann [speaker-independent]"):
        assert title in page
    assert set(rendered.per_class["variant"]) == {"fdan", "dann"}
