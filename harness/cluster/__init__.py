"""The Ray cluster a run uses: local start or join (`local`), auth mode (`auth`), per-trial resources
(`resources`), storage filesystems (`storage`), per-node preflight (`preflight`), a launcher config's
capacity (`launcher`), Ray Jobs (`jobs`), the Ray internals relied on (`private_api`)."""
