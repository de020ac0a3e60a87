"""Token buckets for socket events, shared by every process through Redis.

When Redis cannot be reached the same limits are counted per process, so an
outage neither opens the gates nor blocks everyone.
"""

import logging
import time

from flask import current_app

log = logging.getLogger(__name__)

# Tokens refill at `rate` per second up to `burst`; one token per event.
# Redis's own clock is used, so every process agrees on time.
TAKE = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(state[1]) or burst
local stamp = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return tostring(wait)
"""


class TokenBucket:
    """A per-process bucket (the fallback, and for per-socket limits)."""

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = float(burst), time.monotonic()

    def take(self) -> float:
        """0 when allowed, else the seconds until a token is available."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class Buckets:
    def __init__(self, client, prefix: str):
        self.prefix = prefix
        self.script = client.register_script(TAKE) if client is not None else None
        self.local: dict[str, TokenBucket] = {}

    def take(self, key: str, rate: float, burst: int) -> float:
        """Take a token for `key`; returns 0 when allowed, else the wait in seconds."""
        if self.script is not None:
            try:
                return float(self.script(keys=[f"{self.prefix}:bucket:{key}"], args=[rate, burst]))
            except Exception:  # Redis down or slow: count in this process instead
                log.warning("rate-limit store unreachable; using per-process buckets")
        bucket = self.local.get(key)
        if bucket is None or (bucket.rate, bucket.burst) != (rate, burst):
            bucket = self.local[key] = TokenBucket(rate, burst)
        return bucket.take()


def init_app(app) -> None:
    app.extensions["buckets"] = Buckets(app.extensions.get("redis"), app.config["REDIS_PREFIX"])


def take(key: str, rate: float, burst: int) -> float:
    return current_app.extensions["buckets"].take(key, rate, burst)
