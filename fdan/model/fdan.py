"""FDAN: ResNet trunks per modality, token cross-attention, adaptation networks, three classifier heads."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from fdan.config import ModelConfig
from fdan.model.adaptation import AdaptationNetwork
from fdan.model.attention import CrossModalAttention
from fdan.model.dropout import active_dropouts, dropout_disabled
from fdan.model.encoders import build_trunk
from fdan.model.frozen import freeze_trunks
from fdan.model.masking import masked_mean
from fdan.model.tokenizers import AudioTokenizer, FaceTokenizer


@dataclass
class FDANOutput:
    """Logits (B, C) per head and features (B, adapt_dim); a head or feature is None when its modality is absent.

    ``audio_feat`` / ``face_feat``: the unimodal adapted features h_a, h_f (inputs of the audio / face
    heads). ``audio_attended_feat`` / ``face_attended_feat``: the same adaptation networks applied to
    the cross-attended tokens (g_a, g_f; inputs of the fusion). ``audio_align_feat`` /
    ``face_align_feat``: the pair the modality LMMD aligns (``model.align``). ``dropout_free``: the
    same outputs recomputed from the same tokens with dropout off (only when asked for in training
    mode and the model has active dropout; else None, and the outputs themselves are dropout-free).
    """

    fused_logits: Tensor | None
    audio_logits: Tensor | None
    face_logits: Tensor | None
    audio_feat: Tensor | None
    face_feat: Tensor | None
    fused_feat: Tensor | None
    audio_attended_feat: Tensor | None = None
    face_attended_feat: Tensor | None = None
    audio_align_feat: Tensor | None = None
    face_align_feat: Tensor | None = None
    dropout_free: "FDANOutput | None" = None

    @property
    def clean(self) -> "FDANOutput":
        """The dropout-free outputs (``dropout_free`` if it was computed, else this object)."""
        return self.dropout_free if self.dropout_free is not None else self


class FDAN(nn.Module):
    """Feature Distribution Adaptation Network (arXiv 2410.22023), built as docs/ARCHITECTURE.md says.

    ``forward(mel, faces, mel_len=None, face_mask=None)``: ``mel`` (B, 1, M, T) log-Mel (float16/32),
    ``faces`` (B, K, 3, S, S) uint8 RGB; ``mel_len`` (B,) int valid frames, ``face_mask`` (B, K) bool
    real face frames (None = all valid). Either modality may be None (single-modality prediction).

    Tokens (fdan.model.tokenizers): audio a (B, Ta, D) with mask, faces f (B, K, D) with mask.
    - audio head: ``h_a = adapt_a(mean_valid(a))`` -> logits; depends on the audio only.
    - face head: ``h_f = adapt_f(mean_valid(f))`` -> logits; depends on the faces only.
    - fused head: ``(a', f') = CrossAttention(a, f)``, ``g_a = adapt_a(mean_valid(a'))``,
      ``g_f = adapt_f(mean_valid(f'))``, ``z = fusion([g_a; g_f])`` -> logits (needs both modalities).
    LMMD aligns ``(h_a, h_f)`` (``align: unimodal``, default) or ``(g_a, g_f)`` (``attended``); with
    ``align_grad: adaptation`` (default) its gradient trains the adaptation networks only (the pair is
    recomputed from detached pooled tokens: same values), with ``encoder`` it reaches the trunks too.
    Dropout: ``dropout`` on the classifier inputs, ``attn_dropout`` inside the attention blocks; the
    features themselves carry no other dropout.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        face_trunk = build_trunk(cfg.backbone, 3, cfg.weights, cfg.trunk_stages)
        # The shared trunk reads spectrograms as 3-channel images, as the public code does.
        audio_trunk = face_trunk if cfg.share_backbone else build_trunk(cfg.backbone, 1, cfg.weights, cfg.trunk_stages)
        width = face_trunk.out_channels
        standardise = cfg.standardises_tokens
        self.audio_tokens = AudioTokenizer(audio_trunk, width, cfg.attn_dim, rgb_input=cfg.share_backbone,
                                           stride=audio_trunk.stride, standardise=standardise)
        self.face_tokens = FaceTokenizer(face_trunk, width, cfg.attn_dim, standardise=standardise)
        self.cross = CrossModalAttention(cfg.attn_dim, cfg.attn_heads, cfg.attn_layers, cfg.attn_dropout)
        self.audio_adapt = AdaptationNetwork(cfg.attn_dim, cfg.adapt_dim, cfg.adapt_output)
        self.face_adapt = AdaptationNetwork(cfg.attn_dim, cfg.adapt_dim, cfg.adapt_output)
        # LayerNorm here made the fused head learn as fast as the single-modality heads (it lagged without);
        # the output is normalised like the adapted features, as the corpus LMMD aligns it.
        self.fusion = AdaptationNetwork(2 * cfg.adapt_dim, cfg.adapt_dim, cfg.adapt_output)
        self.head_dropout = nn.Dropout(cfg.dropout)
        self.fused_head = nn.Linear(cfg.adapt_dim, cfg.num_classes)
        self.audio_head = nn.Linear(cfg.adapt_dim, cfg.num_classes)
        self.face_head = nn.Linear(cfg.adapt_dim, cfg.num_classes)
        if cfg.freeze_backbone:  # seeded trunks, BatchNorm statistics from noise, no gradient, always eval

            freeze_trunks(self)

    @property
    def face_trunk(self) -> nn.Module:
        return self.face_tokens.trunk

    @property
    def audio_trunk(self) -> nn.Module:
        return self.audio_tokens.trunk

    def forward(
        self,
        mel: Tensor | None,
        faces: Tensor | None,
        mel_len: Tensor | None = None,
        face_mask: Tensor | None = None,
        *,
        dropout_free: bool = False,
    ) -> FDANOutput:
        if mel is None and faces is None:
            raise ValueError("FDAN needs at least one modality: mel and faces are both None")
        audio = self.audio_tokens(mel, mel_len) if mel is not None else None
        face = self.face_tokens(faces, face_mask) if faces is not None else None
        if audio is not None and face is not None and audio[0].shape[0] != face[0].shape[0]:
            raise ValueError(f"mel has {audio[0].shape[0]} rows but faces {face[0].shape[0]}")
        return self.forward_tokens(audio, face, dropout_free=dropout_free)

    def forward_tokens(self, audio: tuple[Tensor, Tensor] | None, face: tuple[Tensor, Tensor] | None, *,
                       dropout_free: bool = False) -> FDANOutput:
        """Everything above the tokenizers: ``audio`` / ``face`` = (tokens (B, N, D), mask (B, N)) or None.

        ``fdan.model.frozen.FromTrunkOutputs`` enters here with tokens embedded from cached trunk outputs.
        """
        out = self._from_tokens(audio, face)
        if dropout_free and self.training and active_dropouts(self):
            with dropout_disabled(self):
                out.dropout_free = self._from_tokens(audio, face)
        return out

    def _from_tokens(self, audio: tuple[Tensor, Tensor] | None, face: tuple[Tensor, Tensor] | None) -> FDANOutput:
        pa = masked_mean(*audio) if audio is not None else None
        pf = masked_mean(*face) if face is not None else None
        h_a = self.audio_adapt(pa) if pa is not None else None
        h_f = self.face_adapt(pf) if pf is not None else None
        g_a = g_f = fused = fused_logits = pa2 = pf2 = None
        if audio is not None and face is not None:
            (a, a_mask), (f, f_mask) = audio, face
            a2, f2 = self.cross(a, f, a_mask, f_mask)
            pa2, pf2 = masked_mean(a2, a_mask), masked_mean(f2, f_mask)
            g_a, g_f = self.audio_adapt(pa2), self.face_adapt(pf2)
            fused = self.fusion(torch.cat([g_a, g_f], dim=1))
            fused_logits = self.fused_head(self.head_dropout(fused))
        attended = self.cfg.align == "attended"
        align_a, align_f = (g_a, g_f) if attended else (h_a, h_f)
        if self.cfg.align_grad == "adaptation":  # same values; LMMD's gradient stops at the adaptation networks
            xa, xf = (pa2, pf2) if attended else (pa, pf)
            align_a = self.audio_adapt(xa.detach()) if xa is not None else None
            align_f = self.face_adapt(xf.detach()) if xf is not None else None
        return FDANOutput(
            fused_logits=fused_logits,
            audio_logits=self.audio_head(self.head_dropout(h_a)) if h_a is not None else None,
            face_logits=self.face_head(self.head_dropout(h_f)) if h_f is not None else None,
            audio_feat=h_a,
            face_feat=h_f,
            fused_feat=fused,
            audio_attended_feat=g_a,
            face_attended_feat=g_f,
            audio_align_feat=align_a,
            face_align_feat=align_f,
        )

    def param_groups(self, lr: float, backbone_lr_mult: float = 0.1) -> list[dict]:
        """Optimizer groups: the trunks at ``lr * backbone_lr_mult`` (the paper's x0.1), the rest at ``lr``.

        ``fdan.training.optim.build_optimizer`` passes ``backbone_lr_mult = 1`` for random trunks (``weights: none``).
        """
        trunk_ids = {id(p) for m in (self.face_trunk, self.audio_trunk) for p in m.parameters()}
        trunk = [p for p in self.parameters() if id(p) in trunk_ids and p.requires_grad]
        rest = [p for p in self.parameters() if id(p) not in trunk_ids and p.requires_grad]
        return [
            {"params": trunk, "lr": lr * backbone_lr_mult, "name": "backbone"},
            {"params": rest, "lr": lr, "name": "head"},
        ]
