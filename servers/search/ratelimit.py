"""A per-backend token bucket, plus the cool-down a backend earns by answering 429."""

from __future__ import annotations

import time

import anyio


class RateLimiter:
    """Allows `rate` requests per second on average and bursts of up to `burst`."""

    def __init__(self, rate: float, burst: int, clock=time.monotonic):
        self.rate = rate
        self.burst = float(burst)
        self.clock = clock
        self.tokens = float(burst)
        self.updated = clock()
        self.cooldown_until = 0.0
        self._lock = anyio.Lock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def available(self) -> float:
        """Requests that may start now."""
        self._refill()
        return round(self.tokens, 3)

    def cooling_down(self) -> float:
        """Seconds left of a 429 cool-down (0 when none)."""
        return max(0.0, self.cooldown_until - self.clock())

    def cool_down(self, seconds: float) -> None:
        self.cooldown_until = max(self.cooldown_until, self.clock() + seconds)

    def wait_needed(self) -> float:
        """Seconds until one token is available."""
        self._refill()
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    async def acquire(self) -> None:
        """Take one token, sleeping until one is available (callers bound the wait)."""
        async with self._lock:
            while (wait := self.wait_needed()) > 0:
                await anyio.sleep(wait)
            self.tokens -= 1
