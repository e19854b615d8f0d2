"""Training: the loss of a step (`loss`), one epoch (`epoch`), THE training loop with model selection and
resume (`fit`, `selection`, `resume`), optimiser and schedules (`optim`, `schedule`), mixed precision
(`amp`), the cross-corpus target stream (`target_stream`)."""
