"""What a run ran on: interpreter, platform, hardware, package versions, git commit, Ray resources."""
from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

# distribution names to report; a tuple lists alternatives, the first installed one wins
PACKAGES: dict[str, tuple[str, ...]] = {
    "torch": ("torch",),
    "torchvision": ("torchvision",),
    "torchaudio": ("torchaudio",),
    "ray": ("ray",),
    "optuna": ("optuna",),
    "numpy": ("numpy",),
    "pandas": ("pandas",),
    "pydantic": ("pydantic",),
    "av": ("av",),
    "opencv": ("opencv-python-headless", "opencv-python", "opencv-contrib-python-headless", "opencv-contrib-python"),
    "fdan-bench": ("fdan-bench",),
}


def package_versions() -> dict[str, str | None]:
    """Installed version of each package of :data:`PACKAGES` (None when not installed)."""
    versions: dict[str, str | None] = {}
    for key, dists in PACKAGES.items():
        versions[key] = None
        for dist in dists:
            try:
                versions[key] = metadata.version(dist)
                break
            except metadata.PackageNotFoundError:
                continue
    return versions


def memory_bytes() -> int | None:
    """Physical memory of this machine in bytes, None where the OS does not say."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def gpu_info() -> dict[str, Any]:
    """CUDA devices as torch sees them; an empty device list without CUDA or without torch."""
    try:
        import torch
    except ImportError:
        return {"cuda_available": False, "cuda_version": None, "devices": []}
    devices = []
    available = torch.cuda.is_available()
    if available:
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            devices.append({
                "index": i,
                "name": props.name,
                "total_memory_bytes": int(props.total_memory),
                "capability": f"{props.major}.{props.minor}",
            })
    return {"cuda_available": available, "cuda_version": torch.version.cuda, "devices": devices}


def git_info(repo_dir: Path | str | None = None) -> dict[str, Any]:
    """Commit and dirty flag of the checkout holding ``repo_dir`` (default: this package).

    Outside a git checkout, or without git installed, both are None — never an error.
    ``dirty`` considers tracked files only: untracked scratch files do not change the code that ran.
    """
    cwd = Path(repo_dir) if repo_dir is not None else Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10
        )
        if commit.returncode != 0:
            return {"commit": None, "dirty": None}
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd, capture_output=True, text=True, timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    dirty = bool(status.stdout.strip()) if status.returncode == 0 else None
    return {"commit": commit.stdout.strip(), "dirty": dirty}


def collect_env(cluster_resources: dict | None = None, *, repo_dir: Path | str | None = None) -> dict[str, Any]:
    """The ``env.json`` record: a JSON-serialisable dict describing where and with what a run ran.

    ``cluster_resources`` is passed in (``ray.cluster_resources()`` of the run) so that this function
    never starts or needs Ray itself.
    """
    return {
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "platform": {
            "system": platform.system(),
            "release": platform.release(),
            "machine": platform.machine(),
            "description": platform.platform(),
        },
        "hardware": {
            "cpu_count": os.cpu_count(),
            "memory_bytes": memory_bytes(),
            "gpu": gpu_info(),
        },
        "packages": package_versions(),
        "git": git_info(repo_dir),
        "ray_cluster_resources": dict(cluster_resources or {}),
    }
