"""The published import path of LMMD (``from fdan.lmmd import lmmd``): the loss lives in
:mod:`fdan.alignment.lmmd`; this alias keeps scripts and notebooks written against it working."""
from fdan.alignment.lmmd import lmmd, lmmd_class_weights, spread_normalise

__all__ = ["lmmd", "lmmd_class_weights", "spread_normalise"]
