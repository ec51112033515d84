"""Settings: one env-backed dataclass, read once."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class Settings:
    """Everything the server reads from its environment."""

    var_dir: Path = field(default_factory=lambda: Path(_env("DOORPASS_VAR", str(ROOT / "var"))))
    """Local state: the SQLite file, the master key file. Git-ignored."""

    database_url: str = ""
    """SQLAlchemy async URL (`DATABASE_URL`). Empty: SQLite file `var/doorpass.db`."""

    master_key: str = field(default_factory=lambda: _env("DOORPASS_MASTER_KEY", ""))
    """b64u of 32 bytes that seal every private key and TOTP secret at rest. Empty: `var/master.key` (0600), made on first start."""

    admin_token: str = field(default_factory=lambda: _env("DOORPASS_ADMIN_TOKEN", ""))
    """Bearer token for the admin API until accounts land. Empty: `var/admin.token` (0600), made on first start."""

    pwa_dist: Path = field(default_factory=lambda: Path(_env("DOORPASS_PWA_DIST", str(ROOT / "pwa" / "dist"))))
    """The built PWA served at `/`."""

    status_list_size: int = field(default_factory=lambda: int(_env("DOORPASS_STATUS_SIZE", "131072")))
    """Entries in the status list (at least 131,072, so fetching it says nothing about which pass is checked)."""

    activation_ttl: int = field(default_factory=lambda: int(_env("DOORPASS_ACTIVATION_TTL", str(72 * 3600))))
    """Seconds an activation code stays usable."""

    pass_valid_days: int = field(default_factory=lambda: int(_env("DOORPASS_PASS_DAYS", "365")))
    """Default validity of a new pass, in days."""

    issuer_key_days: int = field(default_factory=lambda: int(_env("DOORPASS_ISSUER_KEY_DAYS", str(3 * 366))))
    """How long a new issuer key stays in the trust list (`not_after`)."""

    host: str = field(default_factory=lambda: _env("DOORPASS_HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(_env("DOORPASS_PORT", "8000")))

    debug: bool = field(default_factory=lambda: _env("DOORPASS_DEBUG", "") == "1")

    def __post_init__(self) -> None:
        if not self.database_url:
            url = os.environ.get("DATABASE_URL") or f"sqlite+aiosqlite:///{self.var_dir / 'doorpass.db'}"
            object.__setattr__(self, "database_url", url)
        if self.status_list_size < 131072:
            raise ValueError("DOORPASS_STATUS_SIZE must be at least 131072")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests clear this cache after changing the env)."""
    return Settings()
