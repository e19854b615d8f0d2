"""Stream fixed-shape rows into a .npy file without holding the whole array in memory.

The number of usable rows is only known at the end (bad files are skipped), so the file is created
with room for `capacity` rows and its header is rewritten in place to the final row count (the .npy
format reserves header space for exactly this) and the file truncated.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format


class NpyRowWriter:
    """Append rows of shape `row_shape` and dtype `dtype` to `path`; `close()` fixes the final shape."""

    def __init__(self, path: str | Path, capacity: int, row_shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.path = Path(path)
        self.row_shape = tuple(row_shape)
        self.dtype = np.dtype(dtype)
        self.n_rows = 0
        self._capacity = capacity
        self._array = npy_format.open_memmap(self.path, mode="w+", dtype=self.dtype,
                                             shape=(max(capacity, 1), *self.row_shape))

    def append(self, row: np.ndarray) -> None:
        if row.shape != self.row_shape:
            raise ValueError(f"{self.path.name}: row shape {row.shape}, expected {self.row_shape}")
        if self.n_rows >= self._capacity:
            raise IndexError(f"{self.path.name}: more than {self._capacity} rows")
        self._array[self.n_rows] = row
        self.n_rows += 1

    def close(self) -> None:
        """Flush, then shrink the file to the rows written: shape (n_rows, *row_shape)."""
        self._array.flush()
        del self._array
        _set_rows(self.path, self.n_rows, self.row_shape, self.dtype)


def _set_rows(path: Path, n_rows: int, row_shape: tuple[int, ...], dtype: np.dtype) -> None:
    header = {"descr": npy_format.dtype_to_descr(dtype), "fortran_order": False, "shape": (n_rows, *row_shape)}
    with open(path, "r+b") as f:
        version = npy_format.read_magic(f)
        if version == (1, 0):
            npy_format.read_array_header_1_0(f)
        else:
            npy_format.read_array_header_2_0(f)
        offset = f.tell()
        f.seek(0)
        if version == (1, 0):
            npy_format.write_array_header_1_0(f, header)
        else:
            npy_format.write_array_header_2_0(f, header)
        if f.tell() != offset:  # cannot happen with numpy's reserved growth space; be safe anyway
            raise RuntimeError(f"{path}: .npy header changed size while shrinking")
        f.truncate(offset + n_rows * int(np.prod(row_shape, dtype=np.int64)) * dtype.itemsize)
