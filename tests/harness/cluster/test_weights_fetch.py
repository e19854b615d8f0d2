"""`fdan-bench weights fetch` against a local HTTP server on 127.0.0.1 (no real download), the hash check,
and the clear error of a run that needs ImageNet weights a machine lacks."""
from __future__ import annotations

import functools
import hashlib
import http.server
import threading
from pathlib import Path

import pytest

from harness.cluster.weights import WeightsFetchError, WeightsFile, fetch, is_valid, missing_weights, weights_files

from ..experiment_data import run_cli

REPO = Path(__file__).resolve().parents[3]
CONTENT = b"a small stand-in for a weights file\n" * 100


@pytest.fixture
def server(tmp_path):
    """Serves tmp_path/served/ on 127.0.0.1 (a free port) for the test."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_fetch_checks_the_published_hash_and_keeps_only_a_valid_file(server, tmp_path):
    served, base = server
    good = f"tiny-{hashlib.sha256(CONTENT).hexdigest()[:8]}.pth"
    (served / good).write_bytes(CONTENT)
    file = WeightsFile("resnet18", f"{base}/{good}", tmp_path / "hub" / "checkpoints" / good)
    assert fetch(file) is True and file.path.read_bytes() == CONTENT and is_valid(file)
    assert fetch(file) is False  # a valid copy is kept, not fetched again
    bad = "tiny-00000000.pth"  # the content does not match the name's hash
    (served / bad).write_bytes(CONTENT)
    wrong = WeightsFile("resnet18", f"{base}/{bad}", tmp_path / "hub" / "checkpoints" / bad)
    with pytest.raises(WeightsFetchError, match="hash"):
        fetch(wrong)
    assert not wrong.path.exists()
    with pytest.raises(WeightsFetchError, match="download failed"):
        fetch(WeightsFile("resnet18", f"{base}/absent-12345678.pth", tmp_path / "absent-12345678.pth"))


def test_cli_fetch_from_a_mirror_refuses_a_file_with_the_wrong_hash(server, tmp_path, monkeypatch):
    served, base = server
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    (file,) = weights_files(["resnet18"])
    assert str(file.path).startswith(str(tmp_path / "torch"))
    (served / file.path.name).write_bytes(CONTENT)  # torchvision's name, other content
    res = run_cli("weights", "fetch", "--backbone", "resnet18", "--base-url", base)
    assert res.exit_code == 1 and "invalid hash" in res.output and not file.path.exists()
    assert run_cli("weights", "fetch", "--backbone", "resnet99").exit_code == 2
    listed = run_cli("weights", "list", "--backbone", "resnet18")
    assert listed.exit_code == 0 and "missing" in listed.output


def test_run_that_needs_absent_imagenet_weights_names_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    assert "fdan-bench weights fetch --backbone resnet34" in missing_weights([("imagenet", "resnet34")])
    assert missing_weights([("none", "resnet34")]) is None
    res = run_cli("sweep", str(REPO / "experiments" / "quickstart.yaml"), "--set", f"output_dir={tmp_path / 'results'}",
                  "--set", "model.weights=imagenet", "--set", "model.backbone=resnet34")
    assert res.exit_code != 0 and "fdan-bench weights fetch --backbone resnet34" in res.output
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").rglob("*.parquet"))


def test_preflight_reports_a_node_without_the_weights(tmp_path, monkeypatch):
    """The path preflight checks on every node (harness.cluster.preflight.check_here runs there)."""
    from harness.cluster.preflight import check_here
    from harness.cluster.weights import required_weights

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    paths = required_weights("imagenet", "resnet18")
    (problem,) = check_here(paths, None)
    assert "weights fetch" in problem and "resnet18" in problem and "not found" in problem
    Path(next(iter(paths.values()))).parent.mkdir(parents=True)
    Path(next(iter(paths.values()))).write_bytes(b"x")
    assert check_here(paths, None) == []
