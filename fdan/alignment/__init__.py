"""Domain alignment: Gaussian kernels (`kernels`), MMD (`mmd`), LMMD (`lmmd`), the alignment methods
(`methods`: fdan, dsan, mmd, coral, dann, source_only, adabn) and the two scopes they act on (`scopes`)."""
