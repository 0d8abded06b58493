"""A small fixed-window rate limit per client address, kept in the cache (Redis in production)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache


def client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def is_rate_limited(request, scope: str) -> bool:
    """Count this request; True once the address made more than the limit in this window."""
    limit = getattr(settings, "REFERRALS_TOKEN_RATE_LIMIT", 30)
    window = getattr(settings, "REFERRALS_TOKEN_RATE_WINDOW", 60)
    bucket = int(time.time() // window)
    key = f"referrals:rl:{scope}:{client_address(request)}:{bucket}"
    cache.add(key, 0, timeout=window * 2)
    try:
        count = cache.incr(key)
    except ValueError:
        # The key expired between add and incr; start again.
        cache.set(key, 1, timeout=window * 2)
        count = 1
    return count > limit
