"""Ray token authentication (Ray >= 2.59), chosen on purpose before any Ray process starts.

`ray.auth_mode` (default `disabled`, right for a single-user cluster on 127.0.0.1) is exported as
RAY_AUTH_MODE unless the environment already sets it. For a shared cluster use `token`
(README.md, "Token authentication").
"""
from __future__ import annotations

import os


def choose_auth_mode(mode: str) -> str:
    """Export RAY_AUTH_MODE (unless already set) so Ray neither warns nor writes ~/.ray/auth_token by accident."""
    return os.environ.setdefault("RAY_AUTH_MODE", mode)
