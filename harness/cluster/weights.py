"""torchvision's ImageNet weights for the supported trunks, in the torch hub cache of each machine.

`fdan-bench weights fetch` downloads them (on a machine with a network), and checks each file against the
sha256 prefix its published name carries (``resnet34-b627a593.pth``: the first hex digits of the file's
sha256, torch.hub's own rule, `torch.hub.download_url_to_file(..., hash_prefix=...)`). Training never
downloads: `model.weights: imagenet` reads the file from the cache (`fdan.model.encoders`), a sweep checks
it is there before it starts, and preflight checks every node of a cluster has it.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BASE_URL = "https://download.pytorch.org/models/"
FETCH_COMMAND = "fdan-bench weights fetch"


class WeightsFetchError(RuntimeError):
    """A download that failed or whose content does not match its published hash (nothing is left behind)."""


@dataclass(frozen=True)
class WeightsFile:
    backbone: str
    url: str  # torchvision's published address
    path: Path  # where torch.hub (and fdan) look for it

    @property
    def hash_prefix(self) -> str:
        """The sha256 prefix in the published name (torch.hub.HASH_REGEX)."""
        match = re.search(r"-([a-f0-9]+)\.", self.url.rsplit("/", 1)[-1])
        if not match:
            raise WeightsFetchError(f"{self.url}: no hash in the file name to check it against")
        return match.group(1)


def weights_files(backbones: list[str] | None = None) -> list[WeightsFile]:
    """The ImageNet file of each supported trunk (or of ``backbones``; unknown names: ValueError)."""
    from fdan.model.encoders import BACKBONES, imagenet_weights_path, imagenet_weights_url  # torchvision: when needed

    chosen = list(backbones or BACKBONES)
    unknown = [b for b in chosen if b not in BACKBONES]
    if unknown:
        raise ValueError(f"unknown backbone(s) {', '.join(unknown)}; known: {', '.join(BACKBONES)}")
    return [WeightsFile(b, imagenet_weights_url(b), imagenet_weights_path(b)) for b in chosen]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_valid(file: WeightsFile) -> bool:
    """The file is in the cache and its sha256 starts with the published prefix."""
    return file.path.is_file() and sha256_of(file.path).startswith(file.hash_prefix)


def fetch(file: WeightsFile, base_url: str | None = None, progress: bool = False) -> bool:
    """Download ``file`` into the hub cache unless a valid copy is there; True when it downloaded.

    ``base_url`` replaces torchvision's address up to the file name (a mirror). The download goes to a
    temporary file that torch.hub checks against the hash prefix before moving it into place."""
    import torch.hub

    if is_valid(file):
        return False
    url = file.url if base_url is None else base_url.rstrip("/") + "/" + file.url.rsplit("/", 1)[-1]
    file.path.parent.mkdir(parents=True, exist_ok=True)
    try:
        torch.hub.download_url_to_file(url, str(file.path), hash_prefix=file.hash_prefix, progress=progress)
    except RuntimeError as exc:  # torch.hub: 'invalid hash value (expected ..., got ...)'
        file.path.unlink(missing_ok=True)
        raise WeightsFetchError(f"{url}: {exc}; nothing was kept") from None
    except OSError as exc:  # urllib: unreachable host, HTTP errors
        raise WeightsFetchError(f"{url}: download failed ({exc})") from None
    return True


def missing_weights_message(backbone: str, path: Path) -> str:
    return (f"model.weights: imagenet needs torchvision's {backbone} file at {path}; run `{FETCH_COMMAND} "
            f"--backbone {backbone}` on a machine with a network (or copy the file there)")


def required_weights(model_weights: str, backbone: str) -> dict[str, str]:
    """The preflight path of the ImageNet file a run needs ({} for other weights): every node must have it."""
    if model_weights != "imagenet":
        return {}
    (file,) = weights_files([backbone])
    return {f"ImageNet {backbone} weights (`{FETCH_COMMAND}`)": str(file.path)}


def missing_weights(needs: list[tuple[str, str]]) -> str | None:
    """The message for the first (weights, backbone) whose ImageNet file this machine lacks, else None."""
    for model_weights, backbone in dict.fromkeys(needs):
        for path in required_weights(model_weights, backbone).values():
            if not Path(path).is_file():
                return missing_weights_message(backbone, Path(path))
    return None
