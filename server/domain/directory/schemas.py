"""Bodies of the public directory and of a pass's rating."""

from __future__ import annotations

from server.schemas import Struct


class DirectoryAgency(Struct):
    id: int
    name: str
    phone: str
    """The agency's public phone; empty when the agency gave none."""


class Directory(Struct):
    """Every agency's name and phone, and the hotline: cached by phones so a verdict can name them offline."""

    agencies: list[DirectoryAgency]
    hotline: str
    """The public hotline for a worker at the door (`DOORPASS_HOTLINE`)."""
    issued_at: int
    """The server's time when this answer was made (Unix seconds)."""


class Rating(Struct):
    """What households said of a pass's worker after confirmed visits only (no texts, no devices)."""

    serial: int
    confirmed_count: int
    """Confirmed reviews: the reviewing household's signed visit code is the one the worker checked in with."""
    average: float | None
    """Mean stars (1–5) over those reviews, one decimal; null when there are none."""
