"""Time, passed in rather than read everywhere: tests move it, the code never calls time() itself."""

from __future__ import annotations

import time


class Clock:
    """Wall-clock Unix seconds; `offset` lets a test jump ahead."""

    def __init__(self) -> None:
        self.offset = 0

    def now(self) -> int:
        return int(time.time()) + self.offset
