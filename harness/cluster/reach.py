"""Whether a Ray cluster address answers at all, checked in seconds before `ray.init` joins it.

`ray.init(address="host:port")` to an address where nothing listens retries for minutes (GCS
connection attempts of 5 s, then cluster-id polling, over and over). A plain TCP connect to the GCS
port says the same in at most `timeout` seconds, so a mistyped or dead address is one clear message.
"""
from __future__ import annotations

import socket
from harness.errors import InputError

TIMEOUT_S = 5.0


class ClusterUnreachable(InputError, ConnectionError):
    """Nothing answers at the Ray address the run was told to join; the message says what to check."""


def host_port(address: str) -> tuple[str, int] | None:
    """(host, port) of a `host:port` / `[v6]:port` GCS address; None for `auto`, `local`, `ray://...` and the like."""
    if "://" in address or ":" not in address:
        return None
    host, _, port = address.rpartition(":")
    if not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def check_reachable(address: str, timeout: float = TIMEOUT_S) -> None:
    """Raise ClusterUnreachable when a TCP connection to the address's GCS port fails within `timeout`."""
    target = host_port(address)
    if target is None:
        return
    try:
        with socket.create_connection(target, timeout=timeout):
            return
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
    raise ClusterUnreachable(
        f"no Ray cluster answers at {address} ({reason}). Check --address / ray.address (the head node's "
        f"GCS address, port 6379 by default: `ray status --address {address}`), start the cluster with "
        f"`ray start --head`, or leave the address out to start a local cluster.")
