"""Evaluation of a model on a loader (`evaluate`) and the classification metrics (`metrics`)."""
