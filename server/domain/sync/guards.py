"""Who may call the records routes (the role matrix: docs/roles.md). Push and pull are public: phones."""

from __future__ import annotations

from server.auth import Role, roles

READERS = roles(Role.REGULATOR, Role.AGENCY_ADMIN, Role.AGENCY_STAFF)
"""Complaints and reviews: the regulator all, an agency those about its own workers."""

OUTLET = roles(Role.REGULATOR, Role.OUTLET_STAFF)
"""Attendance: the outlet that ran the session, and the regulator."""

OUTLET_PHONE = roles(Role.OUTLET_STAFF)
"""Tie a phone to an outlet: outlet staff signed in on it."""

REGULATOR = roles(Role.REGULATOR)
"""A record's proof (body, signature, device key): the regulator."""
