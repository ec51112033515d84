"""The base of every API body and wire message: one policy, stated once."""

from __future__ import annotations

import msgspec


class Struct(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Request and response bodies: keyword-only, unknown fields refused."""


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
