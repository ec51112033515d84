"""Who may call the account routes (the role matrix: docs/roles.md)."""

from __future__ import annotations

from server.auth import STAFF_ROLES, Role, roles

SIGNED_IN = roles(*STAFF_ROLES, setup=True)
"""Any staff account, also while it is still setting up two factors: its own sign-out, details, password, authenticator."""

MANAGE_ACCOUNTS = roles(Role.REGULATOR, Role.AGENCY_ADMIN)
"""The regulator manages every account; an agency admin those of their agency (checked in the service)."""
