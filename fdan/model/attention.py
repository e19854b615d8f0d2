"""Token-level cross-attention between the audio and face token sequences (all parameters trained)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class CrossAttentionBlock(nn.Module):
    """Queries from ``x`` attend to the valid tokens of ``context``; residual + LayerNorm, then feed-forward + LayerNorm.

    ``x`` (B, Tq, D), ``context`` (B, Tk, D), ``context_mask`` (B, Tk) bool (True = real token, None =
    all real) -> (B, Tq, D). Padded keys get no attention weight. A row whose context has no real token
    (e.g. every face frame missing) skips the attention update: ``x ← LN(x)`` then the feed-forward.
    The key projection has no bias: a key bias adds the same score to every key, which softmax
    cancels, so it would never receive a gradient.
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
        self.attn_drop = nn.Dropout(dropout)  # on the attention weights (p read only while training)
        self.out_drop = nn.Dropout(dropout)

    def _split(self, t: Tensor) -> Tensor:
        b, n, d = t.shape
        return t.view(b, n, self.heads, d // self.heads).transpose(1, 2)

    def forward(self, x: Tensor, context: Tensor, context_mask: Tensor | None = None) -> Tensor:
        q, k, v = self._split(self.q(x)), self._split(self.k(context)), self._split(self.v(context))
        keep = None
        attn_mask = None
        if context_mask is not None:
            keep = context_mask.any(dim=1)  # (B,)
            # Rows without any real key attend to everything (finite) and their update is dropped below.
            attn_mask = (context_mask | ~keep.unsqueeze(1))[:, None, None, :]  # (B, 1, 1, Tk)
        p = self.attn_drop.p if self.attn_drop.training else 0.0
        att = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=p)
        update = self.out_drop(self.out(att.transpose(1, 2).reshape(x.shape)))
        if keep is not None:
            update = update * keep.view(-1, 1, 1).to(update.dtype)
        x = self.norm1(x + update)
        return self.norm2(x + self.ffn(x))


class CrossModalAttention(nn.Module):
    """``layers`` rounds of audio→face and face→audio attention, both computed from the previous round.

    ``audio`` (B, Ta, D), ``face`` (B, Tf, D), masks (B, Ta) / (B, Tf) bool or None -> the same shapes.
    """

    def __init__(self, dim: int, heads: int, layers: int = 1, dropout: float = 0.1) -> None:
        super().__init__()
        self.audio_to_face = nn.ModuleList(CrossAttentionBlock(dim, heads, dropout) for _ in range(layers))
        self.face_to_audio = nn.ModuleList(CrossAttentionBlock(dim, heads, dropout) for _ in range(layers))

    def forward(
        self, audio: Tensor, face: Tensor, audio_mask: Tensor | None = None, face_mask: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        for a2f, f2a in zip(self.audio_to_face, self.face_to_audio):
            audio, face = a2f(audio, face, face_mask), f2a(face, audio, audio_mask)
        return audio, face
