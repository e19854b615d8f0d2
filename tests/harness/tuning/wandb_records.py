"""Reading a W&B offline run file (``run-<id>.wandb``) back, for the tracking test.

wandb 0.31 no longer ships a Python reader (its Go core writes the file), so this follows the file's
definition: a 7-byte header (``":W&B"``, magic 0xBEE1, version) and then LevelDB-log framing, 32 KiB blocks
of chunks, each with a 7-byte header (CRC32, length, type: 1 full, 2 first, 3 middle, 4 last; a block's tail
shorter than a header is padding). Each reassembled payload is one ``wandb_internal_pb2.Record``, parsed with
W&B's own protobuf definitions.
"""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Any, Iterator

BLOCK = 32768
HEADER = 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def records(path: Path) -> Iterator[Any]:
    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    ident, magic, _version = struct.unpack("<4sHB", data[:HEADER])
    assert (ident, magic) == (b":W&B", 0xBEE1), f"{path} is not a W&B run file"
    pos, payload = HEADER, b""
    while pos + HEADER <= len(data):
        left = BLOCK - pos % BLOCK
        if left < HEADER:
            pos += left
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos:pos + HEADER])
        pos += HEADER
        if kind == 0 and length == 0:  # zero padding at the end of a block
            pos += left - HEADER
            continue
        payload += data[pos:pos + length]
        pos += length
        if kind in (FULL, LAST):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(payload)
            payload = b""
            yield record


def run_summary(path: Path) -> dict[str, Any]:
    """The run's id, group, project, tags, config (JSON strings) and per-step history (key -> JSON string)."""
    out: dict[str, Any] = {"history": [], "exit_code": None}
    for record in records(path):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            out.update(id=record.run.run_id, group=record.run.run_group, project=record.run.project,
                       tags=list(record.run.tags), config={i.key: i.value_json for i in record.run.config.update})
        elif kind == "history":
            out["history"].append({i.key or "/".join(i.nested_key): i.value_json for i in record.history.item})
        elif kind == "exit":
            out["exit_code"] = record.exit.exit_code
    return out
