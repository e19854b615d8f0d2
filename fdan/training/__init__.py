"""Training: the loss of a step (`loss`), one epoch (`epoch`), whole runs with model selection (`fit`),
optimiser and schedules (`optim`, `schedule`), mixed precision (`amp`), the cross-corpus target stream."""
