"""fdan: the FDAN model library (plain PyTorch; no Ray)."""
__version__ = "0.1.0"
