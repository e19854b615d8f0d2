"""`ResultsError`: a results directory or table that cannot be used."""
from __future__ import annotations

from harness.errors import InputError


class ResultsError(InputError, ValueError):
    """A results directory or table that cannot be used; the message says exactly what is wrong."""
