"""Benchmark settings (X6): production behaviour (DEBUG off, real password hashing, Redis
cache when REDIS_URL is set) served over plain HTTP on loopback, so no TLS redirect or
secure-only cookies. Never deploy with these."""

import os

os.environ.setdefault(
    "SECRET_KEY", "bench-only-0123456789-not-a-secret-loopback-benchmark-key-value"
)
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/crm_bench")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")

from .production import *  # noqa: F403

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
AXES_ENABLED = False  # the load tool logs in many times from one address
