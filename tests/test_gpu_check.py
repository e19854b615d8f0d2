"""`make gpu-check` (bench/gpu_check.py): without a GPU it says so, writes the reason and succeeds."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(torch.cuda.is_available(), reason="with a GPU the check runs for minutes: `make gpu-check`")
def test_gpu_check_skips_clearly_without_a_gpu(tmp_path: Path) -> None:
    out = tmp_path / "gpu_check.json"
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "gpu_check.py"), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "no CUDA GPU visible" in proc.stdout and "skipped" in proc.stdout
    assert "nothing was measured" in json.loads(out.read_text())["skipped"]
