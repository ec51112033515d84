"""The base of every API body and wire message: one policy, stated once."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.params import Parameter


class Struct(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Request and response bodies: keyword-only, unknown fields refused."""


# Integers bounded to what their column holds, so an oversized number is a 400, never a database error.
# Each alias works in a body (msgspec.Meta) and as a path parameter (Parameter); an optional query
# parameter needs the `Maybe...` form, because Litestar drops the bounds inside `X | None`.
SERIAL_LIMIT = 2**53
"""DP1 pass numbers (BIGINT, and exact in JavaScript)."""
ROW_ID_LIMIT = 2**31
"""Row ids in INTEGER columns."""
BIGINT_MAX = 2**63 - 1

Serial = Annotated[int, msgspec.Meta(ge=0, lt=SERIAL_LIMIT), Parameter(ge=0, lt=SERIAL_LIMIT)]
RowId = Annotated[int, msgspec.Meta(ge=1, lt=ROW_ID_LIMIT), Parameter(ge=1, lt=ROW_ID_LIMIT)]
Cursor = Annotated[int, msgspec.Meta(ge=0, le=BIGINT_MAX), Parameter(ge=0, le=BIGINT_MAX)]
MaybeSerial = Annotated[int | None, Parameter(ge=0, lt=SERIAL_LIMIT)]
MaybeRowId = Annotated[int | None, Parameter(ge=1, lt=ROW_ID_LIMIT)]


SERVICE_NAMES = ("cleaning", "cooking", "childcare", "elderly", "maternity", "repair", "moving")
"""DP1 service bits, in bit order."""

SERVICE_LABELS = {
    "cleaning": ("保洁", "Cleaning"),
    "cooking": ("做饭/帮厨", "Cooking"),
    "childcare": ("育儿", "Childcare"),
    "elderly": ("护理/银龄", "Elderly care"),
    "maternity": ("月嫂", "Maternity care"),
    "repair": ("维修", "Repair & installation"),
    "moving": ("搬运", "Moving"),
}


def services_to_mask(names: list[str]) -> int:
    mask = 0
    for n in names:
        mask |= 1 << SERVICE_NAMES.index(n)
    return mask


def mask_to_services(mask: int) -> list[str]:
    return [n for i, n in enumerate(SERVICE_NAMES) if mask >> i & 1]
