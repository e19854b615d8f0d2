"""The driver's main thread: an experiment resolved into units, its corpora and caches made ready, the
units run side by side (one lane thread each, `harness.tuning`), resume state, Ctrl+C, the results tables."""
