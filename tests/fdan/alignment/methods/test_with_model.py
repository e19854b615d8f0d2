"""Each method in a few real training steps of the FDAN model (ResNet-18 trunks, tiny batch).

This is how ``fdan.training`` is to call a method between modalities: audio = source, face = target,
``target_prob`` only for methods that need it, the method's parameters in the optimizer.
"""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from fdan.alignment.methods import create_method
from fdan.model import create_model
from tests.fdan.model_helpers import SMALL


@pytest.mark.parametrize("name", ["fdan", "source_only", "dsan", "mmd", "coral", "dann"])
def test_method_trains_with_the_model_and_its_gradient_reaches_both_trunks(name: str, tiny_batch) -> None:
    torch.manual_seed(0)
    model = create_model("fdan", **{**SMALL, "backbone": "resnet18"})
    method = create_method(name, feature_dim=SMALL["adapt_dim"], num_classes=SMALL["num_classes"], ramp_gamma=None)
    params = [p for p in model.parameters() if p.requires_grad] + list(method.parameters())
    opt = torch.optim.SGD(params, lr=1e-3)
    y = tiny_batch["label"]
    losses = []
    for step in range(2):
        opt.zero_grad()
        out = model(tiny_batch["mel"], tiny_batch["faces"])
        prob = out.face_logits.detach().softmax(dim=1) if method.needs_target_prob else None
        term = method(out.audio_feat, out.face_feat, y, prob, progress=step / 2)
        assert torch.isfinite(term) and term.dtype == torch.float32
        loss = F.cross_entropy(out.audio_logits, y) + F.cross_entropy(out.face_logits, y) + 0.1 * term
        losses.append(loss.item())
        if step == 1:
            break
        if name == "source_only":
            assert not term.requires_grad
        else:  # the alignment term alone: which parts does it reach?
            term.backward(retain_graph=True)
            reached = {
                part: any(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())
                for part, module in (("audio", model.audio_trunk), ("face", model.face_trunk), ("method", method))
            }
            assert reached == {"audio": True, "face": True, "method": name == "dann"}
            opt.zero_grad()
        loss.backward()
        opt.step()
    assert all(torch.isfinite(torch.tensor(losses)))
