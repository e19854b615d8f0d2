"""Mixed precision: train.amp modes, bf16 autocast on CPU, fp16 GradScaler persistence."""
import pytest
import torch
from pydantic import ValidationError

from fdan.config import TrainConfig
from fdan.evaluation.evaluate import evaluate
from fdan.model import create_model
from fdan.training.amp import amp_autocast, autocast_dtype, grad_scaler
from fdan.training.fit import seed_everything
from fdan.training.loss import train_step
from fdan.training.optim import build_optimizer
from tests.fdan.model_helpers import TINY


def test_amp_modes():
    assert autocast_dtype("auto", "cpu") is None  # auto = off on CPU
    assert autocast_dtype("off", "cpu") is None
    assert autocast_dtype("bf16", "cpu") is torch.bfloat16 and autocast_dtype("fp16", "cpu") is torch.float16
    if torch.cuda.is_available():
        assert autocast_dtype("auto", "cuda") is (torch.bfloat16 if torch.cuda.is_bf16_supported() else None)
    with pytest.raises(ValidationError):
        TrainConfig(amp="fp8")


def test_bf16_training_step_and_float32_lmmd(tiny_batch):
    tiny_batch = {k: v[:4] for k, v in tiny_batch.items()}  # bf16 convolutions are slow on CPU
    seed_everything(0)
    model = create_model("fdan", **TINY)
    cfg = TrainConfig(optimizer="adamw", amp="bf16", lmmd_warmup=0.0)
    opt = build_optimizer(model, cfg)
    with amp_autocast("bf16", "cpu"):
        out = model(tiny_batch["mel"], tiny_batch["faces"])
    assert out.fused_logits.dtype == torch.bfloat16  # autocast really is on
    before = model.audio_head.weight.detach().clone()
    parts = train_step(model, tiny_batch, opt, None, cfg, progress=1.0)
    assert parts["lmmd_modal"].dtype == torch.float32 and torch.isfinite(parts["loss"])
    assert not torch.equal(before, model.audio_head.weight)
    result = evaluate(model, [tiny_batch], num_classes=4, amp="bf16")
    assert result.probabilities["fused"].dtype.name == "float32"


def test_fp16_steps_go_through_the_runs_one_grad_scaler(tiny_batch):
    seed_everything(0)
    model = create_model("fdan", **TINY)
    cfg = TrainConfig(optimizer="adamw", amp="fp16")
    opt = build_optimizer(model, cfg)
    scaler = grad_scaler("fp16", "cpu")
    assert isinstance(scaler, torch.amp.GradScaler) and grad_scaler("bf16", "cpu") is None
    small = {k: v[:4] for k, v in tiny_batch.items()}
    with pytest.raises(ValueError, match="scaler"):  # no hidden per-optimizer scaler any more
        train_step(model, small, opt, None, cfg, progress=0.5)
    train_step(model, small, opt, None, cfg, progress=0.5, scaler=scaler)
    assert scaler._scale is not None  # the step went through this scaler
