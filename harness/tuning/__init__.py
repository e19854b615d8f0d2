"""One unit's Ray Tune experiment, run in a driver thread of its own: the Tuner (search, scheduler,
deduplication, watchdog, start gate), the trial records, model selection on validation data, and the one
held-out test of the chosen model."""
