"""A small fixed-window rate limit per client address, kept in the cache (Redis in production)."""

from __future__ import annotations

import time

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, PermissionDenied


def client_address(request) -> str:
    """The client's address, as sign-in's rate limits see it (trusted proxies allowed for)."""
    try:
        address = get_adapter(request).get_client_ip(request)
    except (ImproperlyConfigured, PermissionDenied):
        # Fewer X-Forwarded-For entries than proxies configured (not through our proxies), or
        # no usable address at all.
        address = request.META.get("REMOTE_ADDR")
    return address or "unknown"


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
