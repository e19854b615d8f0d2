import os

import pytest
import torch

# Ray workers and torch threads share the machine's cores; one intra-op thread keeps tests predictable.
torch.set_num_threads(1)
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def tiny_batch():
    """A fixed batch of 8 utterances with small inputs: mel (8,1,32,48), faces (8,2,3,32,32), 4 classes."""
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(8) % 4
    mel = torch.randn(8, 1, 32, 48, generator=g) + labels.view(8, 1, 1, 1).float()
    faces = torch.randint(0, 256, (8, 2, 3, 32, 32), generator=g, dtype=torch.uint8)
    return {"mel": mel.half(), "faces": faces, "label": labels, "index": torch.arange(8)}
