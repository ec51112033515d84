"""The fixed words of DP1, written once: result codes (docs/spec/dp1.md §9.2) and status values (§8.3).

The TypeScript module `pwa/src/dp1/index.ts` spells the same lists (`RESULTS`, `STATUSES`);
tests/unit/test_enums.py fails when the two differ.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Result(StrEnum):
    """The 13 result codes, in the spec's order of checks: the first that fails gives the result."""

    MALFORMED = "malformed"
    UNKNOWN_ISSUER = "unknown_issuer"
    BAD_ISSUER_SIG = "bad_issuer_sig"
    BAD_DEVICE_SIG = "bad_device_sig"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    STALE = "stale"
    FUTURE = "future"
    BAD_CODE = "bad_code"
    REVOKED = "revoked"
    RED = "red"
    CAUTION = "caution"
    VALID = "valid"


class Status(IntEnum):
    """A 2-bit status-list entry (安心码 colour, or revoked) and the result it gives."""

    VALID = 0
    """green 绿码"""
    CAUTION = 1
    """yellow 黄码"""
    RED = 2
    """red 红码 (also a suspended pass)"""
    REVOKED = 3
    """注销; also every entry at or past the list's size"""

    @property
    def result(self) -> Result:
        """The result code this entry gives once every earlier check held."""
        return Result(self.name.lower())


RESULTS: tuple[Result, ...] = tuple(Result)
"""Every result code, in the spec's order."""

STATUS_RESULTS: frozenset[Result] = frozenset(s.result for s in Status)
"""The results the status entry decides: every check before it held (signatures, days, steps, code).
A scanned live frame with one of these is signed proof that the holder's phone was there."""

IDENTITY_RESULTS: frozenset[Result] = frozenset(RESULTS[RESULTS.index(Result.BAD_ISSUER_SIG) + 1 :])
"""The results after the issuer signature held: the identity on the credential is genuine."""
