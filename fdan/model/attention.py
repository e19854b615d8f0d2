"""Token-level cross-attention between the audio and face token sequences (all parameters trained)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class CrossAttentionBlock(nn.Module):
    """Queries from ``x`` attend to ``context``; residual + LayerNorm, then feed-forward + LayerNorm.

    ``x`` (B, Tq, D), ``context`` (B, Tk, D) -> (B, Tq, D). The key projection has no bias: a key bias
    adds the same score to every key, which softmax cancels, so it would never receive a gradient.
    """

    def __init__(self, dim: int, heads: int, dropout: float = 0.1) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim ({dim}) must be divisible by heads ({heads})")
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim, bias=False)
        self.v = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)
        self.norm1 = nn.LayerNorm(dim)
        self.ffn = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(2 * dim, dim))
        self.norm2 = nn.LayerNorm(dim)
        self.dropout = dropout

    def _split(self, t: torch.Tensor) -> torch.Tensor:
        b, n, d = t.shape
        return t.view(b, n, self.heads, d // self.heads).transpose(1, 2)

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        q, k, v = self._split(self.q(x)), self._split(self.k(context)), self._split(self.v(context))
        att = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0)
        att = att.transpose(1, 2).reshape(x.shape)
        x = self.norm1(x + F.dropout(self.out(att), self.dropout, self.training))
        return self.norm2(x + self.ffn(x))


class CrossModalAttention(nn.Module):
    """``layers`` rounds of audio→face and face→audio attention, both computed from the previous round.

    ``audio`` (B, Ta, D), ``face`` (B, Tf, D) -> the same shapes.
    """

    def __init__(self, dim: int, heads: int, layers: int = 1, dropout: float = 0.1) -> None:
        super().__init__()
        self.audio_to_face = nn.ModuleList(CrossAttentionBlock(dim, heads, dropout) for _ in range(layers))
        self.face_to_audio = nn.ModuleList(CrossAttentionBlock(dim, heads, dropout) for _ in range(layers))

    def forward(self, audio: torch.Tensor, face: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        for a2f, f2a in zip(self.audio_to_face, self.face_to_audio):
            audio, face = a2f(audio, face), f2a(face, audio)
        return audio, face
