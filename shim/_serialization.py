"""Values cross Resonate's JSON boundary as base64 pickles, so they come back as the same Python
objects DBOS (which pickles too) would return: tuples stay tuples, dataclasses stay dataclasses."""

from __future__ import annotations

import base64
import pickle
from typing import Any


def dumps(value: Any) -> str:
    return base64.b64encode(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)).decode("ascii")


def loads(text: str) -> Any:
    return pickle.loads(base64.b64decode(text))  # noqa: S301 - only the shim's own store is read
