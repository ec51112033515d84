"""Rate limits: one named limit per route group, their numbers in `Settings`, counted in one shared store.

Each route group's limit is a middleware for that route's `middleware=[...]`:

    ENROLL       POST /api/enroll        `limit_enroll` per client per minute
    VERIFY       POST /api/verify        `limit_verify`
    VERIFY_CODE  POST /api/verify/code   `limit_verify_code`
    SIGN_IN      the staff sign-in       `limit_sign_in`
    PUSH         POST /api/sync/push     `limit_push`
    DEVICES      POST /api/sync/devices  `limit_devices`

and `WrongCodes` counts wrong typed codes per pass number, whoever types them (`wrong_codes_per_pass`
within `wrong_codes_window` seconds, then that number is refused for as long).

The counters live in the store named `STORE`: Redis when `REDIS_URL` is set, so every server process
counts together; else the process's memory. A client is its address as the server sees it (behind a
proxy, uvicorn's `FORWARDED_ALLOW_IPS` decides whether `X-Forwarded-For` is believed). Every refusal is
a 429 with `Retry-After` and our zh-CN/en body (`TooManyRequests`, code `rate_limited`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from time import time
from typing import TYPE_CHECKING

import anyio
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore

from server.errors import TooManyRequests
from server.settings import Settings

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.types import Receive, Scope, Send

STORE = "rate_limit"
"""The name of the store that holds every counter (`app.stores.get(STORE)`)."""


def per_minute(settings: Settings, name: str) -> int | None:
    """The limit named `name` from the settings, or None when limits are off."""
    return int(getattr(settings, f"limit_{name}")) if settings.rate_limits else None


class RouteLimitMiddleware(RateLimitMiddleware):
    """Litestar's fixed-window counter, keyed by limit name and client, refusing with our 429."""

    config: RouteLimitConfig

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = scope["litestar_app"]
        limit = per_minute(app.state.settings, self.config.name)
        if limit is not None:
            await self.count(app, scope, limit)
        await self.app(scope, receive, send)

    async def count(self, app: Litestar, scope: Scope, limit: int) -> None:
        """Count this request against its client, or refuse it when the client is over the limit."""
        store = self.config.get_store_from_app(app)
        key = f"{self.config.name}:{self.get_identifier_for_request(app.request_class(scope))}"
        async with self._lock:
            history = await self.retrieve_cached_history(key, store)
            if len(history.history) >= limit:
                raise too_many_requests(history.reset - int(time()))
            await self.set_cached_history(key=key, cache_object=history, store=store)


@dataclass
class RouteLimitConfig(RateLimitConfig):
    """Litestar's rate-limit config with a name; the number comes from `Settings.limit_<name>` per request."""

    name: str = ""
    set_rate_limit_headers: bool = False
    store: str = STORE
    middleware_class: type[RateLimitMiddleware] = RouteLimitMiddleware


def too_many_requests(retry_after: int) -> TooManyRequests:
    wait = max(1, retry_after)
    return TooManyRequests(f"请求过于频繁，请 {wait} 秒后再试", f"Too many requests; try again in {wait} seconds",
                           retry_after=wait)


def _limit(name: str) -> DefineMiddleware:
    if f"limit_{name}" not in {f.name for f in fields(Settings)}:
        raise ValueError(f"no setting limit_{name} for the rate limit {name!r}")
    return RouteLimitConfig(rate_limit=("minute", 0), name=name).middleware  # the number: per_minute()


ENROLL = _limit("enroll")
VERIFY = _limit("verify")
VERIFY_CODE = _limit("verify_code")
SIGN_IN = _limit("sign_in")
PUSH = _limit("push")
DEVICES = _limit("devices")


def stores(settings: Settings) -> dict[str, Store]:
    """The stores for `Litestar(stores=...)`: the counters in Redis when `REDIS_URL` is set, else in memory."""
    if settings.redis_url:
        store: Store = RedisStore.with_client(url=settings.redis_url, namespace=settings.rate_limit_namespace)
    else:
        store = MemoryStore()
    return {STORE: store}


async def close_stores(app: Litestar) -> None:
    """On shutdown: close the Redis connections `stores` opened."""
    store = app.stores.get(STORE)
    if isinstance(store, RedisStore):
        await store.__aexit__(None, None, None)


class WrongCodes:
    """Wrong typed codes per pass number, whoever types them: after `wrong_codes_per_pass` within
    `wrong_codes_window` seconds the number is refused for that long. Unknown numbers count the same,
    so a refusal says nothing about whether a number exists."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.on = settings.rate_limits
        self.most = settings.wrong_codes_per_pass
        self.window = settings.wrong_codes_window
        self.store = store
        self._lock = anyio.Lock()

    @classmethod
    def of(cls, app: Litestar) -> WrongCodes:
        """The app's counter (made on first use)."""
        found = getattr(app.state, "wrong_codes", None)
        if found is None:
            found = app.state.wrong_codes = cls(app.state.settings, app.stores.get(STORE))
        return found

    async def refuse_if_locked(self, serial: int) -> None:
        """Raise `TooManyRequests` while `serial` is locked."""
        if not self.on or await self.store.get(f"wrong_code_lock:{serial}") is None:
            return
        wait = await self.store.expires_in(f"wrong_code_lock:{serial}") or self.window
        raise TooManyRequests(f"这个证号的验证码错误次数过多，请 {wait // 60 + 1} 分钟后再试",
                              f"Too many wrong codes for this pass number; try again in {wait // 60 + 1} minutes",
                              retry_after=wait)

    async def wrong(self, serial: int) -> None:
        """Count one wrong code for `serial`; the last one allowed locks it."""
        if not self.on:
            return
        if await self._incr(f"wrong_codes:{serial}") >= self.most:
            await self.store.set(f"wrong_code_lock:{serial}", b"1", expires_in=self.window)
            await self.store.delete(f"wrong_codes:{serial}")

    async def _incr(self, key: str) -> int:
        """Add one to the counter at `key` (which expires `window` seconds after its first count); the new count."""
        if isinstance(self.store, RedisStore):
            # Redis counts atomically across processes. RedisStore has no counter of its own, so this
            # reaches its client and key scheme (`_redis`, `_make_key`), which litestar 2 keeps stable.
            name = self.store._make_key(key)
            async with self.store._redis.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, self.window, nx=True)
                count, _ = await pipe.execute()
            return int(count)
        async with self._lock:  # one process: the lock makes read-and-write one step
            raw = await self.store.get(key)
            count = int(raw or 0) + 1
            left = await self.store.expires_in(key) if raw else None
            await self.store.set(key, str(count), expires_in=left or self.window)
            return count
