"""What runs inside Ray processes: the Tune trial function, the Ray Train workers, the per-epoch loop
adapter, trial checkpoints, fault injection, and the held-out evaluation Ray task."""
