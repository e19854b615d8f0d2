"""FDAN: ResNet trunks per modality, token cross-attention, adaptation networks, three classifier heads."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from fdan.config import ModelConfig
from fdan.model.adaptation import AdaptationNetwork
from fdan.model.attention import CrossModalAttention
from fdan.model.encoders import ResNetTrunk

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class FDANOutput:
    """Logits (B, C) per head and the adapted features (B, adapt_dim) that the LMMD terms align."""

    fused_logits: torch.Tensor
    audio_logits: torch.Tensor
    face_logits: torch.Tensor
    audio_feat: torch.Tensor
    face_feat: torch.Tensor
    fused_feat: torch.Tensor


class FDAN(nn.Module):
    """Feature Distribution Adaptation Network (arXiv 2410.22023), built as docs/ARCHITECTURE.md says.

    Inputs: ``mel`` (B, 1, M, T) log-Mel (float16/32), ``faces`` (B, K, 3, S, S) uint8 RGB.
    Audio tokens are the trunk's time steps (frequency averaged): (B, T/32, D); face tokens are the K
    pooled frames: (B, K, D). After cross-attention each side is mean-pooled, passed through its own
    adaptation network (h_a, h_f), and the fused feature is ``fusion([h_a; h_f])``.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.face_trunk = ResNetTrunk(cfg.backbone, in_channels=3, weights=cfg.weights)
        # The shared trunk reads spectrograms as 3-channel images, as the public code does.
        self.audio_trunk = self.face_trunk if cfg.share_backbone else ResNetTrunk(cfg.backbone, 1, cfg.weights)
        width = self.face_trunk.out_channels
        self.audio_proj = nn.Linear(width, cfg.attn_dim)
        self.face_proj = nn.Linear(width, cfg.attn_dim)
        self.cross = CrossModalAttention(cfg.attn_dim, cfg.attn_heads, cfg.attn_layers, cfg.attn_dropout)
        self.audio_adapt = AdaptationNetwork(cfg.attn_dim, cfg.adapt_dim, cfg.dropout)
        self.face_adapt = AdaptationNetwork(cfg.attn_dim, cfg.adapt_dim, cfg.dropout)
        # LayerNorm here made the fused head learn as fast as the single-modality heads (it lagged without).
        self.fusion = nn.Sequential(
            nn.Linear(2 * cfg.adapt_dim, cfg.adapt_dim), nn.LayerNorm(cfg.adapt_dim), nn.ReLU(inplace=True), nn.Dropout(cfg.dropout)
        )
        self.fused_head = nn.Linear(cfg.adapt_dim, cfg.num_classes)
        self.audio_head = nn.Linear(cfg.adapt_dim, cfg.num_classes)
        self.face_head = nn.Linear(cfg.adapt_dim, cfg.num_classes)
        self.register_buffer("face_mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("face_std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def _audio_tokens(self, mel: torch.Tensor) -> torch.Tensor:
        x = mel.float()
        mean = x.mean(dim=(2, 3), keepdim=True)
        std = x.std(dim=(2, 3), keepdim=True)
        x = (x - mean) / (std + 1e-5)
        if self.cfg.share_backbone:
            x = x.expand(-1, 3, -1, -1)
        fmap = self.audio_trunk(x)  # (B, W, M/32, T/32)
        return self.audio_proj(fmap.mean(dim=2).transpose(1, 2))  # (B, T/32, D)

    def _face_tokens(self, faces: torch.Tensor) -> torch.Tensor:
        b, k = faces.shape[:2]
        x = faces.flatten(0, 1).float()
        if faces.dtype == torch.uint8:
            x = x / 255.0
        x = (x - self.face_mean) / self.face_std
        fmap = self.face_trunk(x)  # (B*K, W, S/32, S/32)
        return self.face_proj(fmap.mean(dim=(2, 3)).view(b, k, -1))  # (B, K, D)

    def forward(self, mel: torch.Tensor, faces: torch.Tensor) -> FDANOutput:
        if mel.dim() != 4 or mel.shape[1] != 1:
            raise ValueError(f"mel must be (B, 1, n_mels, T), got {tuple(mel.shape)}")
        if faces.dim() != 5 or faces.shape[2] != 3:
            raise ValueError(f"faces must be (B, K, 3, S, S), got {tuple(faces.shape)}")
        audio, face = self.cross(self._audio_tokens(mel), self._face_tokens(faces))
        h_a = self.audio_adapt(audio.mean(dim=1))
        h_f = self.face_adapt(face.mean(dim=1))
        fused = self.fusion(torch.cat([h_a, h_f], dim=1))
        return FDANOutput(
            fused_logits=self.fused_head(fused),
            audio_logits=self.audio_head(h_a),
            face_logits=self.face_head(h_f),
            audio_feat=h_a,
            face_feat=h_f,
            fused_feat=fused,
        )

    def param_groups(self, lr: float, backbone_lr_mult: float = 0.1) -> list[dict]:
        """Optimizer groups: the trunks at ``lr * backbone_lr_mult`` (the paper's x0.1), the rest at ``lr``."""
        trunk_ids = {id(p) for m in (self.face_trunk, self.audio_trunk) for p in m.parameters()}
        trunk = [p for p in self.parameters() if id(p) in trunk_ids and p.requires_grad]
        rest = [p for p in self.parameters() if id(p) not in trunk_ids and p.requires_grad]
        return [
            {"params": trunk, "lr": lr * backbone_lr_mult, "name": "backbone"},
            {"params": rest, "lr": lr, "name": "head"},
        ]
