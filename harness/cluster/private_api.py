"""Ray internals fdan-bench relies on, each pinned to the Ray versions it was verified on.

`tests/harness/cluster/test_private_api.py` fails on any other Ray version (and when the switch is
gone from Ray), so an upgrade re-checks each of them instead of silently changing behaviour.

- `RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`: Ray's "multi-node clusters" switch (off by default only on
  Windows and macOS). Off, the node's address stays 127.0.0.1 and every gRPC server of the cluster
  (GCS, raylet, workers, agents) listens on 127.0.0.1 instead of 0.0.0.0 / ::. Ray reads it when it is
  first imported. `ray.init` has no public option for this (its hidden `_node_ip_address=127.0.0.1` is
  remapped to the machine's address). The effect is tested by `tests/harness/cluster/test_local_ports.py`.
- `ray.tune.tune._setup_signal_catching`: where `tune.run` (behind `Tuner.fit`) gets the event that ends its
  loop as Ctrl+C does (experiment state saved with unfinished trials still unfinished). Tune sets it from
  a SIGINT handler only in the main thread; units fitted in threads (`harness.experiment.interrupt`) substitute
  one event for the whole run. Tested end to end by `tests/harness/experiment/test_sweep.py` (SIGINT, resume).
"""
from __future__ import annotations

LOOPBACK_ONLY_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
VERIFIED_RAY_VERSIONS = ("2.60.0",)
TUNE_INTERRUPT_HOOK = ("ray.tune.tune", "_setup_signal_catching")  # (module, function)
