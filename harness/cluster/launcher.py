"""What a Ray cluster-launcher config (`cluster.yaml`) can grow to: resources at its maximum size.

Node types declare their Ray resources in `available_node_types.<type>.resources` (`{CPU: 8, GPU: 1}`);
a type that leaves them to Ray's detection (`{}` or no CPU) cannot be sized without starting it, and
is reported as unknown. The cluster's own `max_workers` caps the workers of all types together
(filled in the order the types are listed). The head's resources count once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml


@dataclass(frozen=True)
class LauncherCapacity:
    resources: dict[str, float]
    unknown_types: list[str] = field(default_factory=list)  # node types without declared resources
    nodes: int = 0  # the head and every worker at max_workers (node-hours in `--plan`)


def max_resources(path: str | Path) -> LauncherCapacity:
    """Sum of the resources of the head and of every worker node type at its `max_workers`."""
    data = yaml.safe_load(Path(path).read_text()) or {}
    types = data.get("available_node_types") or {}
    head = data.get("head_node_type")
    budget = data.get("max_workers")
    total: dict[str, float] = {}
    unknown: list[str] = []

    nodes = 0

    def add(name: str, spec: dict, count: int) -> None:
        nonlocal nodes
        nodes += count
        resources = spec.get("resources") or {}
        if count and "CPU" not in resources:
            unknown.append(name)
        for key, value in resources.items():
            total[key] = total.get(key, 0.0) + float(value) * count

    for name, spec in types.items():
        spec = spec or {}
        if name == head:
            add(name, spec, 1)
            continue
        count = int(spec.get("max_workers", 0))
        if budget is not None:
            count = min(count, int(budget))
            budget = int(budget) - count
        add(name, spec, count)
    if not types:  # provider: local style (head_ip / worker_ips), resources detected by Ray
        unknown.append("all nodes (no available_node_types)")
    return LauncherCapacity(total, unknown, nodes)
