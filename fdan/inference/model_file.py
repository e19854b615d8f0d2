"""The self-contained model file (`fdan-bench export`): everything needed to apply a trained FDAN to media.

One ``torch.save`` of tensors and plain data only, so :func:`load_model` reads it with
``torch.load(weights_only=True)`` (no pickled objects run). Keys::

    format         "fdan-model"            version   FILE_VERSION (int)
    model          the full state dict of the media model ``FDAN.forward(mel, faces, ...)``, frozen
                   trunks included (a sweep's frozen-trunk checkpoint leaves them out: rebuilt from
                   ``trunk_seed``; here they are stored, so the file does not depend on torch's init)
    model_config   the ModelConfig section (plain data; ``num_classes`` = len(labels))
    feature_config the FeatureConfig that turned media into the inputs the model was trained on
    labels         the label space, class i = labels[i]
    provenance     experiment, pair, source, target, fold, variant, trial_id, protocol, metrics,
                   checkpoint (as the results table names it), fdan version, exported_at (plain data)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from fdan import __version__
from fdan.alignment.scopes import without_alignment
from fdan.config import FeatureConfig, ModelConfig
from fdan.model import create_model
from fdan.model.frozen import load_trainable_state
from fdan.model.modalities import restrict_modalities

FORMAT = "fdan-model"
FILE_VERSION = 1


class ModelFileError(ValueError):
    """A model file that cannot be read, is not an fdan model file, or does not fit its own config."""


@dataclass
class LoadedModel:
    """A model ready for inference: ``model`` (in eval mode, on CPU) with what it needs to be applied."""

    model: nn.Module
    model_config: ModelConfig
    feature_config: FeatureConfig
    labels: list[str]
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def modalities(self) -> tuple[str, ...]:
        return tuple(self.model_config.modalities)


def build_media_model(model_config: dict[str, Any] | ModelConfig, num_classes: int) -> nn.Module:
    """The FDAN that reads media features (mel, faces), restricted to ``model.modalities``.

    Built with ``weights: none`` whatever the config says: the caller loads every weight afterwards, so
    no pretrained file is needed on the machine that applies it.
    """
    data = model_config.model_dump() if isinstance(model_config, ModelConfig) else dict(model_config)
    cfg = ModelConfig.model_validate({**data, "num_classes": num_classes})
    model = create_model(**{**cfg.model_dump(), "weights": "none"})
    model.cfg = cfg
    return restrict_modalities(model, cfg.modalities)


def full_state_from_trainable(model_config: dict[str, Any], labels: list[str],
                              trainable: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The media model's full state dict from a sweep checkpoint's trainable state.

    The checkpoint of a frozen-trunk trial holds ``net.``-prefixed entries without the trunks (its
    model was ``fdan.model.frozen.FromTrunkOutputs``); the trunks are rebuilt exactly as the sweep built
    them (``create_model`` with the checkpoint's own config: ``trunk_seed``, or the pretrained file).
    Training-only alignment entries (DANN's discriminators) are dropped.
    """
    cfg = ModelConfig.model_validate({**model_config, "num_classes": len(labels)})
    model = create_model(**cfg.model_dump())  # as trained: frozen trunks from trunk_seed or the weights file
    state = without_alignment(trainable)
    if cfg.freeze_backbone:
        state = {k[len("net."):] if k.startswith("net.") else k: v for k, v in state.items()}
    load_trainable_state(model, state)
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def save_model_file(path: str | Path, *, state: dict[str, torch.Tensor], model_config: dict[str, Any],
                    feature_config: dict[str, Any], labels: list[str], provenance: dict[str, Any]) -> Path:
    """Write a model file (module docstring); checked by loading it back before it is renamed into place."""
    import json

    plain = json.loads(json.dumps(provenance, default=lambda v: v.item() if hasattr(v, "item") else str(v)))
    data = {"format": FORMAT, "version": FILE_VERSION, "model": state,
            "model_config": json.loads(json.dumps(ModelConfig.model_validate(
                {**model_config, "num_classes": len(labels)}).model_dump(mode="json"))),
            "feature_config": FeatureConfig.model_validate(feature_config).model_dump(mode="json"),
            "labels": [str(label) for label in labels], "provenance": {**plain, "fdan_version": __version__}}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(data, str(tmp))
    try:
        load_model(tmp)
    except ModelFileError:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)
    return path


def load_model(path: str | Path, map_location: str | torch.device = "cpu") -> LoadedModel:
    """Load a model file written by ``fdan-bench export`` (``torch.load(weights_only=True)``).

    >>> m = load_model("model.fdan.pt")
    >>> m.labels, m.feature_config.sample_rate, m.model.eval()

    Raises :class:`ModelFileError` naming the file for anything that is not a readable model file.
    """
    try:
        data = torch.load(str(path), map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such model file") from None
    except Exception as exc:  # UnpicklingError, RuntimeError, EOFError: not a safe tensors-and-data file
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ModelFileError(f"{path} cannot be loaded safely as a model file: {first}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not an fdan model file (written by `fdan-bench export`)")
    if int(data.get("version", 0)) > FILE_VERSION:
        raise ModelFileError(f"{path} has model file version {data['version']}; this fdan reads up to {FILE_VERSION}")
    try:
        model_cfg = ModelConfig.model_validate(data["model_config"])
        feature_cfg = FeatureConfig.model_validate(data["feature_config"])
        labels = [str(label) for label in data["labels"]]
        model = build_media_model(model_cfg, len(labels))
        model.load_state_dict(data["model"], strict=True)
    except Exception as exc:
        raise ModelFileError(f"{path}: the stored model does not fit its own config: {exc}") from None
    return LoadedModel(model=model.eval(), model_config=model_cfg, feature_config=feature_cfg, labels=labels,
                       provenance=dict(data.get("provenance") or {}))
