"""Who may call the pass routes (the role matrix: docs/roles.md). Which agency's passes: `managed_pass`."""

from __future__ import annotations

from server.auth import Role, roles

ISSUERS = roles(Role.AGENCY_ADMIN, Role.AGENCY_STAFF)
"""Issuing passes, new activation codes, the 安心码 colour: the agency answerable for the worker."""

READERS = roles(Role.REGULATOR, Role.AGENCY_ADMIN, Role.AGENCY_STAFF)
"""A pass and its history (可追溯): the regulator any, an agency its own."""

SUSPENDERS = roles(Role.REGULATOR, Role.AGENCY_ADMIN, Role.AGENCY_STAFF)
"""Suspending and reinstating: the agency, or the regulator stepping in."""

REVOKERS = roles(Role.REGULATOR, Role.AGENCY_ADMIN)
"""Revoking for good: the agency's admin, or the regulator."""
