"""Numbers for JSON output: the one rule for NaN, infinities and numpy scalars."""

from __future__ import annotations

import math

import numpy as np


def json_number(x: object, digits: int | None = 6) -> object:
    """``x`` as a JSON-safe value: NaN and ±inf become None, numpy scalars plain Python numbers,
    floats rounded to ``digits`` (None: not rounded); anything else unchanged."""
    if isinstance(x, bool | np.bool_):
        return bool(x)
    if isinstance(x, int | np.integer):
        return int(x)
    if isinstance(x, float | np.floating):
        f = float(x)
        if not math.isfinite(f):
            return None
        return f if digits is None else round(f, digits)
    return x
