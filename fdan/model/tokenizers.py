"""Token sequences from the trunks, with validity masks: log-Mel -> audio tokens, face frames -> face tokens.

Audio (``mel`` (B, 1, M, T), ``mel_len`` (B,) valid frames):

1. Per-utterance standardisation over the valid frames only: ``μ, σ`` of the ``M · n`` values
   ``x[:, :, :n]``; ``x̂ = (x − μ) / (σ + 1e-5)`` on valid frames and exactly 0 beyond ``n``.
2. Length buckets: row i is cropped (or zero-extended) to ``L_i = max(⌈n_i / s⌉ · s, 2s)`` frames
   (``s`` = the trunk's time stride: 32 for whole trunks, ``2^(N+1)`` for ``model.trunk_stages: N``),
   and the trunk runs once per distinct ``L_i``.
   The trunk input of a row is therefore a function of its own ``n_i`` valid frames alone, so
   the same clip padded to any length (and batched with any other clips) gives the same tokens —
   exactly, not just away from the border. (Running the trunk on the padded batch would not: after
   the first BatchNorm the zero padding is no longer zero, and ResNet receptive fields span the
   whole clip.) In training mode BatchNorm's batch statistics are those of each bucket.
3. Trunk -> (b, W, M/s, L/s), frequency-averaged -> ``⌈n_i / s⌉`` valid tokens of width W.

Faces (``faces`` (B, K, 3, S, S) uint8, ``face_mask`` (B, K) bool real frames): only the real frames
go through the trunk (missing ones neither enter BatchNorm statistics nor produce tokens).

Both: ``LayerNorm(Linear(W -> D)(token) + PE[position])`` with fixed sinusoidal codes (audio: token
index in time; faces: frame index k); with ``model.token_standardise`` the trunk features are first
standardised per channel over the valid tokens (see ``TokenEmbedding``). On CUDA the trunk input is ``channels_last``.
"""
from __future__ import annotations

import contextlib
import math
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fdan.model.masking import sinusoidal_positions

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def _trunk_input(x: Tensor) -> Tensor:
    return x.contiguous(memory_format=torch.channels_last) if x.is_cuda else x


class TokenEmbedding(nn.Module):
    """(B, N, W) trunk features, (B, N) mask -> (B, N, D) tokens: [standardise], projection, positional code, LayerNorm.

    ``standardise``: a per-channel ``BatchNorm1d(W, affine=False)`` over the valid tokens only (batch
    statistics in training, running ones in eval; padded tokens stay 0 and enter no statistic), as in
    MAE's linear probing of frozen features. Frozen random trunks need it: their channels differ in
    scale and share a large common offset, so after the projection the LayerNorm saw mostly that
    offset; with it, the audio head of a frozen random ResNet-18 (2 stages) went 30 % -> 42 % LOSO WAR on
    synth-studio.
    """

    def __init__(self, width: int, dim: int, standardise: bool = False) -> None:
        super().__init__()
        self.standardise = nn.BatchNorm1d(width, affine=False) if standardise else None
        self.proj = nn.Linear(width, dim)
        self.norm = nn.LayerNorm(dim)

    def _standardised(self, feat: Tensor, mask: Tensor | None) -> Tensor:
        """BatchNorm's arithmetic over the valid tokens, as masked batched sums (no host sync, no boolean
        indexing on the training step): biased batch variance to normalise, unbiased for the running one;
        fewer than 2 valid tokens (no batch variance) fall back to the running statistics."""
        bn = self.standardise
        w = (torch.ones(feat.shape[:2], device=feat.device) if mask is None else mask.float()).unsqueeze(-1)
        x = feat.float()
        if bn.training:
            n = w.sum()
            mean = (x * w).sum((0, 1)) / n.clamp_min(1)
            var = ((x - mean).pow(2) * w).sum((0, 1)) / n.clamp_min(1)
            enough = n >= 2
            mean = torch.where(enough, mean, bn.running_mean)
            var = torch.where(enough, var, bn.running_var)
            with torch.no_grad():
                unbiased = var * n / (n - 1).clamp_min(1)
                m = torch.where(enough, torch.tensor(bn.momentum, device=x.device), torch.zeros((), device=x.device))
                bn.running_mean.lerp_(mean.detach(), m)
                bn.running_var.lerp_(unbiased.detach(), m)
                bn.num_batches_tracked += 1
        else:
            mean, var = bn.running_mean, bn.running_var
        return ((x - mean) * torch.rsqrt(var + bn.eps) * w).to(feat.dtype)

    def forward(self, feat: Tensor, mask: Tensor | None = None) -> Tensor:
        if self.standardise is not None:
            feat = self._standardised(feat, mask)  # padded tokens stay 0
        x = self.proj(feat)
        return self.norm(x + sinusoidal_positions(x.shape[1], x.shape[2], device=x.device, dtype=x.dtype))


@contextlib.contextmanager
def source_standardisation(module: nn.Module) -> Iterator[None]:
    """Token standardisation of ``module`` on its running statistics for the block (everything else as it is).

    For the unlabelled target rows of a cross-corpus step: with batch statistics each corpus would be
    standardised by its own moments (hiding the very shift the corpus alignment measures), and the
    running statistics, which evaluation uses, would mix both corpora. Inside this block they are
    neither used nor updated: they come from the labelled source batches only.
    """
    norms = [m.standardise for m in module.modules() if isinstance(m, TokenEmbedding) and m.standardise is not None
             and m.standardise.training]
    for bn in norms:
        bn.train(False)
    try:
        yield
    finally:
        for bn in norms:
            bn.train(True)


def valid_lengths(mel: Tensor, mel_len: Tensor | None) -> list[int]:
    """``mel_len`` checked and read to the host (one sync; needed for the length buckets)."""
    b, t = mel.shape[0], mel.shape[-1]
    if mel_len is None:
        return [t] * b
    if mel_len.shape != (b,) or mel_len.is_floating_point():
        raise ValueError(f"mel_len must be an integer tensor of shape ({b},), got {mel_len.dtype} {tuple(mel_len.shape)}")
    lengths = [int(n) for n in mel_len.tolist()]
    bad = [n for n in lengths if not 1 <= n <= t]
    if bad:
        raise ValueError(f"mel_len values must lie in [1, {t}] (the padded length), got {bad[:5]}")
    return lengths


class AudioTokenizer(nn.Module):
    """``mel`` (B, 1, M, T), ``mel_len`` (B,) | None -> tokens (B, Ta, D), mask (B, Ta) bool. See the module doc."""

    def __init__(self, trunk: nn.Module, width: int, dim: int, *, rgb_input: bool = False, stride: int = 32,
                 standardise: bool = False) -> None:
        super().__init__()
        self.trunk = trunk
        self.embed = TokenEmbedding(width, dim, standardise)
        self.rgb_input = rgb_input  # a trunk shared with faces reads the spectrogram as a 3-channel image
        self.stride = stride

    def _standardise(self, x: Tensor, lengths: list[int]) -> Tensor:
        valid = torch.arange(x.shape[-1], device=x.device) < torch.tensor(lengths, device=x.device).unsqueeze(1)
        m = valid[:, None, None, :]  # (B, 1, 1, T)
        count = (valid.sum(dim=1) * x.shape[2]).to(x.dtype).view(-1, 1, 1, 1)
        xm = torch.where(m, x, x.new_zeros(()))
        mean = xm.sum(dim=(2, 3), keepdim=True) / count
        dev = torch.where(m, x - mean, x.new_zeros(()))
        std = (dev.pow(2).sum(dim=(2, 3), keepdim=True) / (count - 1).clamp_min(1)).sqrt()
        return dev / (std + 1e-5)

    def bucket_length(self, n: int) -> int:
        """Trunk input length ``L(n) = max(⌈n/s⌉·s, 2s)`` of a row with n valid frames."""
        return max(math.ceil(n / self.stride) * self.stride, 2 * self.stride)

    def forward(self, mel: Tensor, mel_len: Tensor | None = None) -> tuple[Tensor, Tensor]:
        if mel.dim() != 4 or mel.shape[1] != 1:
            raise ValueError(f"mel must be (B, 1, n_mels, T), got {tuple(mel.shape)}")
        lengths = valid_lengths(mel, mel_len)
        x = self._standardise(mel.float(), lengths)
        buckets: dict[int, list[int]] = {}
        for i, n in enumerate(lengths):
            buckets.setdefault(self.bucket_length(n), []).append(i)
        pieces: list[tuple[list[int], Tensor]] = []
        for length, rows in sorted(buckets.items()):
            xb = x[rows] if len(rows) < len(lengths) else x
            xb = xb[..., :length] if xb.shape[-1] >= length else F.pad(xb, (0, length - xb.shape[-1]))
            if self.rgb_input:
                xb = xb.expand(-1, 3, -1, -1)
            fmap = self.trunk(_trunk_input(xb))  # (b, W, M/s, L/s)
            pieces.append((rows, fmap.mean(dim=2).transpose(1, 2)))  # (b, L/s, W)
        n_tok = max(p.shape[1] for _, p in pieces)
        feat = x.new_zeros(len(lengths), n_tok, pieces[0][1].shape[2], dtype=pieces[0][1].dtype)
        for rows, p in pieces:
            feat[rows, : p.shape[1]] = p
        tok_len = torch.tensor([math.ceil(n / self.stride) for n in lengths], device=x.device)
        mask = torch.arange(n_tok, device=x.device) < tok_len.clamp_max(n_tok).unsqueeze(1)
        return self.embed(feat, mask), mask


class FaceTokenizer(nn.Module):
    """``faces`` (B, K, 3, S, S), ``face_mask`` (B, K) bool | None -> tokens (B, K, D), mask (B, K)."""

    def __init__(self, trunk: nn.Module, width: int, dim: int, *, standardise: bool = False) -> None:
        super().__init__()
        self.trunk = trunk
        self.width = width
        self.embed = TokenEmbedding(width, dim, standardise)
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, faces: Tensor, face_mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        if faces.dim() != 5 or faces.shape[2] != 3:
            raise ValueError(f"faces must be (B, K, 3, S, S), got {tuple(faces.shape)}")
        b, k = faces.shape[:2]
        if face_mask is None:
            mask = torch.ones(b, k, dtype=torch.bool, device=faces.device)
            frames = faces.flatten(0, 1)
        else:
            if face_mask.shape != (b, k) or face_mask.dtype != torch.bool:
                raise ValueError(f"face_mask must be a bool tensor of shape ({b}, {k}), got {face_mask.dtype} {tuple(face_mask.shape)}")
            mask = face_mask
            frames = faces[mask]  # (N_real, 3, S, S)
        feat = torch.zeros(b, k, self.width, device=faces.device)
        if frames.shape[0]:
            x = frames.float()
            if faces.dtype == torch.uint8:
                x = x / 255.0
            pooled = self.trunk(_trunk_input((x - self.mean) / self.std)).mean(dim=(2, 3))  # (N_real, W)
            feat = pooled.view(b, k, -1) if face_mask is None else feat.to(pooled.dtype).index_put((mask,), pooled)
        return self.embed(feat, mask), mask
