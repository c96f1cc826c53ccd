"""Small array helpers shared by the landmarks modules."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["readonly_copy"]


def readonly_copy(a: Any) -> NDArray[Any]:
    """A new array holding ``a``, marked read-only (attrs converter for frozen results)."""
    out = np.array(a, copy=True)
    out.setflags(write=False)
    return out
