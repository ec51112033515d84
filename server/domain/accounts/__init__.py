"""Staff accounts: sign-in with a password and a TOTP second factor, sessions, account management."""

from server.domain.accounts.controllers import AccountController, AuthController

__all__ = ["AccountController", "AuthController"]
