"""Token buckets for socket events, shared by every process through Redis.

When Redis cannot be reached the same limits are counted per process, so an
outage neither opens the gates nor blocks everyone.
"""

import logging
import time

from flask import current_app

log = logging.getLogger(__name__)

# Tokens refill at `rate` per second up to `burst`; an event takes one token from each
# of its buckets, or from none when any is empty (then the wait is the longest).
# Redis's own clock is used, so every process agrees on time.
TAKE = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local tokens, wait = {}, 0
for i, key in ipairs(KEYS) do
  local rate, burst = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local state = redis.call('HMGET', key, 'tokens', 'stamp')
  local have = tonumber(state[1]) or burst
  local stamp = tonumber(state[2]) or now
  have = math.min(burst, have + math.max(0, now - stamp) * rate)
  if have < 1 then wait = math.max(wait, (1 - have) / rate) end
  tokens[i] = have
end
for i, key in ipairs(KEYS) do
  local rate, burst = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local have = tokens[i]
  if wait == 0 then have = have - 1 end
  redis.call('HSET', key, 'tokens', tostring(have), 'stamp', tostring(now))
  redis.call('EXPIRE', key, math.ceil(burst / rate) + 1)
end
return tostring(wait)
"""


class TokenBucket:
    """A per-process bucket (the fallback, and for per-socket limits)."""

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = float(burst), time.monotonic()

    def wait(self) -> float:
        """0 when a token is available, else the seconds until one is."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> float:
        """0 when allowed (a token is taken), else the seconds until a token is available."""
        wait = self.wait()
        if not wait:
            self.tokens -= 1
        return wait


class Buckets:
    def __init__(self, client, prefix: str):
        self.prefix = prefix
        self.script = client.register_script(TAKE) if client is not None else None
        self.local: dict[str, TokenBucket] = {}

    def take(self, *limits: tuple[str, float, int]) -> float:
        """Take a token from each (key, rate, burst) bucket, or from none.

        Returns 0 when allowed, else the seconds until every bucket has a token.
        """
        if self.script is not None:
            keys = [f"{self.prefix}:bucket:{key}" for key, _, _ in limits]
            args = [value for _, rate, burst in limits for value in (rate, burst)]
            try:
                return float(self.script(keys=keys, args=args))
            except Exception:  # Redis down or slow: count in this process instead
                log.warning("rate-limit store unreachable; using per-process buckets")
        buckets = [self._local(*limit) for limit in limits]
        wait = max(bucket.wait() for bucket in buckets)
        if not wait:
            for bucket in buckets:
                bucket.take()
        return wait

    def _local(self, key: str, rate: float, burst: int) -> TokenBucket:
        bucket = self.local.get(key)
        if bucket is None or (bucket.rate, bucket.burst) != (rate, burst):
            bucket = self.local[key] = TokenBucket(rate, burst)
        return bucket


def init_app(app) -> None:
    app.extensions["buckets"] = Buckets(app.extensions.get("redis"), app.config["REDIS_PREFIX"])


def take(*limits: tuple[str, float, int]) -> float:
    """Take one token from each (key, rate, burst) bucket (all processes), or none."""
    return current_app.extensions["buckets"].take(*limits)
