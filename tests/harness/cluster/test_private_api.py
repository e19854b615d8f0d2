"""Each Ray internal harness relies on (harness.cluster.private_api) is re-checked on a Ray upgrade."""
from __future__ import annotations

import inspect
from pathlib import Path

import ray

from harness.cluster.private_api import LOOPBACK_ONLY_ENV, VERIFIED_RAY_VERSIONS


def test_ray_version_is_one_the_internals_were_verified_on():
    assert ray.__version__ in VERIFIED_RAY_VERSIONS, (
        f"Ray {ray.__version__}: re-verify harness/cluster/private_api.py, then add the version")


def test_the_loopback_switch_still_exists():
    from ray._private import ray_constants  # the check itself may touch the internal

    assert f'"{LOOPBACK_ONLY_ENV}"' in inspect.getsource(ray_constants)


def test_harness_uses_no_private_ray_name():
    root = Path(__file__).resolve().parents[3] / "harness"
    needles = ("ray._private", "_experiment_analysis", "from ray._", "_node_ip_address", "ray.util.state._")
    offenders = [f"{p.relative_to(root)}: {n}" for p in root.rglob("*.py") for n in needles
                 if n in p.read_text() and p.name != "private_api.py"]
    assert not offenders


def test_tune_still_asks_the_interrupt_hook_for_its_stop_event():
    import importlib

    from harness.cluster.private_api import TUNE_INTERRUPT_HOOK

    module = importlib.import_module(TUNE_INTERRUPT_HOOK[0])
    assert callable(getattr(module, TUNE_INTERRUPT_HOOK[1], None))
    assert f"experiment_interrupted_event = {TUNE_INTERRUPT_HOOK[1]}()" in inspect.getsource(module.run)
