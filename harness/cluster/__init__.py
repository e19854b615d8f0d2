"""The Ray cluster a run uses: local start or join (`local`), the auth mode (`auth`), per-trial resources (`resources`)."""
