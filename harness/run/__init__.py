"""Running an experiment on Ray: corpora and features ready, (pair x fold) units, per-unit Tune experiments
of Train trials, held-out evaluation of the chosen model, and the rows the results tables are made of."""
