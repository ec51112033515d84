"""Who may call the registry routes (the role matrix: docs/roles.md). Which agency's objects: `Actor.agency_scope`."""

from __future__ import annotations

from server.auth import STAFF_ROLES, Role, roles

REGULATOR = roles(Role.REGULATOR)
"""Registering agencies and outlets."""

AGENCY_READERS = roles(Role.REGULATOR, Role.AGENCY_ADMIN, Role.AGENCY_STAFF)
"""Reading agencies and workers: the regulator all, an agency its own."""

AGENCY_KEYS = roles(Role.REGULATOR, Role.AGENCY_ADMIN)
"""Rotating an agency's issuer key."""

AGENCY_WORKERS = roles(Role.AGENCY_ADMIN, Role.AGENCY_STAFF)
"""Registering workers and their training: the agency answerable for them."""

ANY_STAFF = roles(*STAFF_ROLES)
"""Listing outlets (names and addresses)."""
