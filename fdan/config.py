"""Configuration sections of the fdan library (pydantic, unknown fields refused).

The harness composes these into its one experiment schema (``harness.config.ExperimentConfig``);
the library itself only ever reads them, so plain-PyTorch users can build them directly.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class FeatureConfig(_Section):
    """How media become model inputs. Defaults: 16 kHz, 128 Mel bins, 25 ms / 10 ms, 3 s clips, 8 faces."""

    sample_rate: int = Field(16000, gt=0, description="audio is resampled to this rate (Hz), mono")
    n_mels: int = Field(128, gt=0)
    n_fft: int = Field(1024, gt=0, description="128 Mel bins at 16 kHz need n_fft >= 1024")
    win_length: int = Field(400, gt=0, description="samples (25 ms at 16 kHz)")
    hop_length: int = Field(160, gt=0, description="samples (10 ms at 16 kHz)")
    f_min: float = Field(0.0, ge=0)
    f_max: float | None = Field(None, description="None = sample_rate / 2")
    clip_seconds: float = Field(3.0, gt=0, description="every utterance is padded or cropped to this length")
    clip_policy: Literal["center", "start"] = Field(
        "center", description="where a long clip is cropped; short clips are zero-padded at the end"
    )
    n_frames: int = Field(8, gt=0, description="K face frames per utterance, sampled uniformly")
    face_size: int = Field(112, ge=16, description="face crops are resized to face_size x face_size")
    face_detector: str = Field(
        "haar", min_length=1, description="haar: OpenCV's bundled frontal-face cascade, centre-crop fallback; "
        "center: always centre crop; or a name registered with fdan.features.face_detector.register_detector",
    )
    face_margin: float = Field(0.2, ge=0, description="box enlarged by this fraction on each side before cropping")

    @model_validator(mode="after")
    def _check(self) -> "FeatureConfig":
        if self.win_length > self.n_fft:
            raise ValueError(f"win_length ({self.win_length}) must be <= n_fft ({self.n_fft})")
        if self.n_fft // 2 + 1 < self.n_mels:
            raise ValueError(f"n_fft={self.n_fft} gives {self.n_fft // 2 + 1} frequency bins, fewer than n_mels={self.n_mels}")
        if self.f_max is not None and self.f_max > self.sample_rate / 2:
            raise ValueError(f"f_max ({self.f_max}) is above the Nyquist frequency ({self.sample_rate / 2})")
        return self

    @property
    def n_mel_frames(self) -> int:
        """Mel frames T of one clip (centre-padded STFT)."""
        return int(round(self.clip_seconds * self.sample_rate)) // self.hop_length + 1


class ModelConfig(_Section):
    """The FDAN network (see fdan.model)."""

    name: str = Field("fdan", description="registry name for fdan.create_model")
    backbone: Literal["resnet18", "resnet34", "resnet50", "vgg16", "vgg19"] = "resnet34"
    weights: str = Field(
        "none", description="'none', 'imagenet' (torchvision's file, only if already in the torch hub cache) or a path to a state dict"
    )
    share_backbone: bool = Field(False, description="true reproduces the public code's one shared trunk")
    freeze_backbone: bool = Field(
        False, description="trunks fixed (no gradient, BatchNorm in eval): their token maps can be computed once "
        "and cached (fdan.features.token_cache); only attention, adaptation networks and heads train",
    )
    trunk_stages: int = Field(
        4, ge=1, le=4, description="trunk stages kept (ResNet layer1..layerN; VGG blocks 2..N+1), output stride 2^(N+1); "
        "4 = the whole trunk (the paper). Frozen random trunks lose information with every stage: the quickstart keeps 2",
    )
    trunk_seed: int = Field(
        0, description="frozen trunks with weights 'none' are initialised from this seed (not train.seed), so "
        "cached tokens equal what a freshly built frozen model computes",
    )
    token_standardise: Literal["auto", "on", "off"] = Field(
        "auto", description="per-channel standardisation of the trunk features over valid tokens before their projection "
        "(BatchNorm without gain/bias; fdan.model.tokenizers); auto = on for frozen trunks, off for trained ones",
    )
    attn_dim: int = Field(256, gt=0)
    attn_heads: int = Field(4, gt=0)
    attn_layers: int = Field(1, ge=0)
    attn_dropout: float = Field(0.1, ge=0, lt=1)
    adapt_dim: int = Field(256, gt=0, description="width of the feed-forward adaptation networks' output (what LMMD aligns)")
    dropout: float = Field(0.2, ge=0, lt=1, description="dropout on the classifier inputs (the aligned features carry none)")
    adapt_output: Literal["layernorm", "relu"] = Field(
        "layernorm",
        description="output of the adaptation networks and the fusion: layernorm = fixed-scale features (no gain/bias), "
        "relu = DSAN's bottleneck; with relu a large LMMD weight collapses the features to 0",
    )
    align: Literal["unimodal", "attended"] = Field(
        "unimodal",
        description="features the modality LMMD aligns: unimodal = the audio-only / face-only adapted features "
        "(the paper's intent; attention cannot fake the alignment), attended = those after cross-attention",
    )
    align_grad: Literal["adaptation", "encoder"] = Field(
        "adaptation",
        description="where the modality alignment term's gradient goes (LMMD, and every train.method's modality term: "
        "MMD, CORAL, DANN's reversal): adaptation = the feed-forward adaptation networks only "
        "(the abstract: they are trained with LMMD; trunks, tokens and attention learn from the cross-entropies), "
        "encoder = also the trunks, tokenizers and attention (DeepDA / the public code); from scratch, encoder with "
        "a large alpha collapses every head to chance (README, Loss and schedules)",
    )
    num_classes: int = Field(7, gt=0)
    modalities: list[Literal["audio", "face"]] = Field(
        default_factory=lambda: ["audio", "face"],
        description="[audio, face] (FDAN) or one of them: a single-modality model that ignores the other input "
        "(fdan.model.modalities; the paper's baseline rows)",
    )

    @property
    def standardises_tokens(self) -> bool:
        """Whether the tokenizers standardise the trunk features (``token_standardise``, auto resolved)."""
        return self.token_standardise == "on" or (self.token_standardise == "auto" and self.freeze_backbone)

    @model_validator(mode="after")
    def _check(self) -> "ModelConfig":
        if not self.modalities or len(set(self.modalities)) != len(self.modalities):
            raise ValueError(f"modalities must be [audio, face], [audio] or [face], got {self.modalities}")
        if self.attn_dim % self.attn_heads:
            raise ValueError(f"attn_dim ({self.attn_dim}) must be divisible by attn_heads ({self.attn_heads})")
        return self


class TrainConfig(_Section):
    """Optimisation and the FDAN loss CE(fused)+CE(audio)+CE(face)+alpha*lambda(p)*LMMD(audio, face)."""

    epochs: int = Field(30, gt=0)
    batch_size: int = Field(32, gt=1)
    optimizer: Literal["sgd", "adamw"] = "sgd"
    lr: float = Field(1e-3, gt=0)
    backbone_lr_mult: float = Field(
        0.1, ge=0, description="the paper's backbone lr x0.1; applies only to pretrained trunks (model.weights != none), random trunks train at lr"
    )
    momentum: float = Field(0.9, ge=0, lt=1)
    weight_decay: float = Field(5e-4, ge=0)
    lr_schedule: Literal["paper", "cosine", "constant"] = Field(
        "paper", description="paper: lr*(1+lr_gamma*i)^-0.75 per step"
    )
    lr_gamma: float = Field(3e-4, ge=0)
    lmmd_weight: float = Field(
        0.1, ge=0, description="alpha; the paper's code uses 10 (ImageNet trunks); from scratch 10 no longer collapses the "
        "features (layernorm outputs, warm-up) but slows learning, 0.1 trains like 0"
    )
    lmmd_gamma: float = Field(10.0, gt=0, description="lambda(p) = 2/(1+exp(-gamma*p)) - 1, p = training progress in [0,1]")
    lmmd_scale_invariant: bool = Field(
        True, description="every divergence on scale-normalised features, with gains that put their feature gradients on "
        "one order of magnitude (fdan.alignment.scale): shrinking the features cannot lower any of them; false = the "
        "plain published forms (DSAN's LMMD, which a large alpha minimises by contracting the features)",
    )
    lmmd_warmup: float = Field(
        0.1, ge=0, lt=1, description="LMMD terms off for this fraction of training, then the ramp over the rest: p -> (p - w) / (1 - w)"
    )
    lmmd_target_weights: Literal["labels", "predictions"] = Field(
        "labels", description="labels: one-hot true labels (public code); predictions: softmax (DSAN)"
    )
    method: Literal["fdan", "source_only", "dsan", "mmd", "coral", "dann", "adabn"] = Field(
        "fdan", description="alignment method (fdan.alignment.methods, applied by fdan.alignment.scopes) between the modalities and, "
        "cross-corpus, between the corpora (fdan there = dsan); lmmd_weight / cross_corpus_lmmd_weight weigh it",
    )
    kernel_mul: float = Field(2.0, gt=0)
    kernel_num: int = Field(5, gt=0)
    fix_sigma: float | None = Field(None, description="fixed base bandwidth; None = mean pairwise distance")
    bandwidths: list[float] | None = Field(None, description="explicit bandwidth multipliers; replaces kernel_mul/kernel_num")
    cross_corpus_lmmd_weight: float = Field(
        0.1, ge=0, description="beta, the weight of the source/target-corpus LMMD (cross-corpus runs)"
    )
    grad_clip: float | None = Field(5.0, description="max gradient norm; None disables")
    seed: int = 0
    num_workers: int = Field(0, ge=0, description="DataLoader workers")
    gather_alignment: bool = Field(
        True, description="several workers per trial: every alignment term sees the rows of all workers (a differentiable "
        "all-gather; the one-worker loss of the global batch), false = each worker's own rows (fdan.training.distributed)",
    )
    sync_batchnorm: bool = Field(
        False, description="several CUDA workers: BatchNorm batch statistics over the global batch (SyncBatchNorm); "
        "false = per worker (batch_size / workers rows); refused on CPU workers",
    )
    deterministic: bool = Field(
        False, description="reproducible GPU runs: cudnn.benchmark off, deterministic algorithms only, seeded loader "
        "workers (fdan.determinism; slower)",
    )
    amp: Literal["off", "bf16", "fp16", "auto"] = Field(
        "off", description="autocast: auto = bf16 on CUDA GPUs that support it, else off; fp16 adds a GradScaler; LMMD stays float32"
    )
    early_stopping_patience: int | None = Field(
        None, ge=1, description="stop a run (a sweep's trial too) after this many epochs without a better selection score"
    )
