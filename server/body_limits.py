"""Request body limits, in bytes: one app default, smaller or larger per route. Over its limit a request is
refused before its body is read (by `Content-Length`, or as it streams in): 413 with our zh-CN/en body.
"""

from __future__ import annotations

DEFAULT = 1024 * 1024
"""Every route without its own limit: 1 MiB. The largest admin body is a worker with a photo (≤ 512 KB, ~700 KB
as base64)."""

PUSH = 4 * 1024 * 1024
"""`POST /api/sync/push`: 4 MiB. The phone's outbox sends at most 100 records and about 2,000,000 characters of
JSON a batch (two or so complaint photos of ≤ 512 KB); Chinese text takes 3 bytes a character, so a full batch
stays well under this, and one valid record (a complaint with its photo, ~705 KB) always fits alone."""

SMALL = 16 * 1024
"""Enroll, verify, verify by code: a code, a key, a QR text of at most 4 KB."""


def size_text(n: int) -> str:
    """1 MiB -> "1 MB", 16 KiB -> "16 KB" (what people read in the refusal)."""
    return f"{n // (1024 * 1024)} MB" if n >= 1024 * 1024 else f"{n // 1024} KB"
