"""Settings: one env-backed dataclass, read once."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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

    master_key_previous: str = field(default_factory=lambda: _env("DOORPASS_MASTER_KEY_PREVIOUS", ""))
    """Comma-separated b64u keys that still open sealed values (never seal), e.g. the key before
    `rotate-master-key`. Added to the keys in `var/master.key.previous`, if that file exists."""

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

    session_idle_seconds: int = field(default_factory=lambda: int(_env("DOORPASS_SESSION_IDLE", str(2 * 3600))))
    """A staff session ends after this long without a request (it slides with use)."""

    session_max_seconds: int = field(default_factory=lambda: int(_env("DOORPASS_SESSION_MAX", str(12 * 3600))))
    """A staff session ends this long after sign-in, however it is used."""

    sign_in_lock_after: int = field(default_factory=lambda: int(_env("DOORPASS_SIGN_IN_LOCK_AFTER", "5")))
    """Failed sign-ins in a row (wrong password or code) that lock an account."""

    sign_in_lock_seconds: int = field(default_factory=lambda: int(_env("DOORPASS_SIGN_IN_LOCK_SECONDS", "900")))
    """How long a locked account stays locked."""

    cookie_secure: bool | None = field(
        default_factory=lambda: {"1": True, "0": False}.get(_env("DOORPASS_COOKIE_SECURE", ""))
    )
    """Staff session cookies carry `Secure` (sent only over HTTPS): `DOORPASS_COOKIE_SECURE=1` or `0`. Unset, a
    server on a loopback address (127.0.0.1, localhost, ::1) is development and sends them without it."""

    redis_url: str = field(default_factory=lambda: _env("REDIS_URL", ""))
    """Redis that holds the rate-limit counters for every server process (`redis://127.0.0.1:6379/0`).
    Empty: each process counts in its own memory (one process, or limits per process)."""

    rate_limit_namespace: str = field(default_factory=lambda: _env("DOORPASS_RATE_LIMIT_NAMESPACE", "doorpass"))
    """Prefix of the rate-limit keys in Redis, so several deployments (or test runs) can share one Redis."""

    rate_limits: bool = field(default_factory=lambda: _env("DOORPASS_RATE_LIMITS", "on") != "off")
    """`DOORPASS_RATE_LIMITS=off` turns every limit below off (the test suite and the benchmarks do)."""

    limit_enroll: int = field(default_factory=lambda: int(_env("DOORPASS_LIMIT_ENROLL", "10")))
    """Enrollments (`POST /api/enroll`) per client per minute: activation codes cannot be guessed in bulk."""

    limit_devices: int = field(default_factory=lambda: int(_env("DOORPASS_LIMIT_DEVICES", "10")))
    """Device registrations (`POST /api/sync/devices`) per client per minute, like enrollments."""

    limit_verify: int = field(default_factory=lambda: int(_env("DOORPASS_LIMIT_VERIFY", "120")))
    """Scanned checks (`POST /api/verify`) per client per minute."""

    limit_verify_code: int = field(default_factory=lambda: int(_env("DOORPASS_LIMIT_VERIFY_CODE", "10")))
    """Typed checks (`POST /api/verify/code`) per client per minute."""

    limit_sign_in: int = field(default_factory=lambda: int(_env("DOORPASS_LIMIT_SIGN_IN", "10")))
    """Staff sign-in attempts per client per minute (on top of the per-account lock-out)."""

    limit_push: int = field(default_factory=lambda: int(_env("DOORPASS_LIMIT_PUSH", "60")))
    """Record pushes (`POST /api/sync/push`) per client per minute."""

    wrong_codes_per_pass: int = field(default_factory=lambda: int(_env("DOORPASS_WRONG_CODES", "5")))
    """Wrong typed codes for one pass number, from anyone, within `wrong_codes_window`, after which that
    number answers `rate_limited` for `wrong_codes_window` (known or unknown numbers alike)."""

    wrong_codes_window: int = field(default_factory=lambda: int(_env("DOORPASS_WRONG_CODES_WINDOW", "900")))
    """Seconds over which wrong codes for one pass number are counted, and how long it then stays locked."""

    sync_records_per_day: int = field(default_factory=lambda: int(_env("DOORPASS_SYNC_RECORDS_PER_DAY", "20000")))
    """Records one device may store per UTC day, applied and rejected alike (a worker makes tens a day, an outlet
    phone at a big session hundreds; a phone back after weeks offline sends its backlog in one day). Once reached,
    its pushes answer 429 with `Retry-After` (the next UTC midnight) and the phone keeps every record to send then."""

    sync_bytes_per_day: int = field(default_factory=lambda: int(_env("DOORPASS_SYNC_BYTES_PER_DAY", str(64 * 1024 * 1024))))
    """Bytes of record bodies one device may store per UTC day (64 MiB: about 90 complaints with a photo; a rejected
    record counts only the prefix it keeps). Reached: as `sync_records_per_day`."""

    timezone: str = field(default_factory=lambda: _env("DOORPASS_TIMEZONE", "Asia/Shanghai"))
    """The time zone of the city the service runs in: the calendar day of a visit, of a training session, and of
    the frame a trainee's pass showed (which must be the session's day)."""

    sync_offline_lag_days: int = field(default_factory=lambda: int(_env("DOORPASS_SYNC_OFFLINE_LAG_DAYS", "7")))
    """Days an offline record carrying a scanned frame (review, complaint, attendance by frame) may take to reach the
    server, counted from the frame's time step; later, it is refused. A phone offline longer loses such records, so
    this bounds how long an old screenshot of a live code stays usable as proof."""

    hotline: str = field(default_factory=lambda: _env("DOORPASS_HOTLINE", "12345"))
    """The public hotline a household calls about a worker at the door (a revoked or red pass), shown on the verdict
    and served with the agency directory: the city's 12345 by default, or its home-service line (e.g. 962512)."""

    def __post_init__(self) -> None:
        if not self.database_url:
            url = os.environ.get("DATABASE_URL") or f"sqlite+aiosqlite:///{self.var_dir / 'doorpass.db'}"
            object.__setattr__(self, "database_url", url)
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"DOORPASS_TIMEZONE: unknown time zone {self.timezone!r}") from e
        if self.status_list_size < 131072:
            raise ValueError("DOORPASS_STATUS_SIZE must be at least 131072")

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.host not in ("127.0.0.1", "localhost", "::1")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests clear this cache after changing the env)."""
    return Settings()
