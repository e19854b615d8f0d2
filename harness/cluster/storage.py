"""Where Ray Tune/Train keep trial state and checkpoints: a local path, or a pyarrow filesystem URI.

`storage` is a path (shared by every node for multi-node runs) or any URI pyarrow resolves (`s3://`,
`gs://`, `hdfs://`, ...). `storage_options` are keyword arguments of the scheme's pyarrow filesystem
(`pyarrow.fs.S3FileSystem(endpoint_override=..., region=...)`, `GcsFileSystem(...)`); without them
pyarrow resolves the URI itself (credentials from the usual environment: AWS_ACCESS_KEY_ID, ...).
Ray gets the filesystem and the path inside it (`storage_filesystem` + `storage_path`), and so does
everything that reads Ray's paths back (checkpoints reported as `checkpoint_path` are paths inside
that filesystem, without the URI scheme).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_FILESYSTEMS = {"s3": "S3FileSystem", "gs": "GcsFileSystem", "gcs": "GcsFileSystem", "hdfs": "HadoopFileSystem"}


def is_uri(storage: str) -> bool:
    return "://" in storage and not storage.startswith("file://")


@dataclass(frozen=True)
class Storage:
    """A resolved storage location: `filesystem` None means the local file system at `path`."""

    path: str
    filesystem: Any = field(default=None, compare=False)

    def join(self, *parts: str) -> str:
        return "/".join([self.path.rstrip("/"), *parts])


def filesystem_for(uri: str, options: dict[str, Any] | None = None) -> tuple[Any, str]:
    """(pyarrow filesystem, path inside it) for a URI; `options` are the scheme's filesystem kwargs."""
    import pyarrow.fs

    scheme, _, rest = uri.partition("://")
    if not options:
        return pyarrow.fs.FileSystem.from_uri(uri)
    if scheme not in _FILESYSTEMS:
        raise ValueError(f"storage_options are supported for {sorted(_FILESYSTEMS)} URIs, not {scheme}://")
    filesystem = getattr(pyarrow.fs, _FILESYSTEMS[scheme])(**options)
    return filesystem, rest.rstrip("/")


def resolve_storage(storage: str, options: dict[str, Any] | None = None) -> Storage:
    """The `Storage` of an experiment's `storage_path` and `storage_options`."""
    if is_uri(storage):
        filesystem, path = filesystem_for(storage, options)
        return Storage(path, filesystem)
    if options:
        raise ValueError("storage_options need an object-store URI in storage (s3://bucket/prefix, gs://...)")
    return Storage(storage.removeprefix("file://"))
