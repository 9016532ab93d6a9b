"""Helpers of the partner tests: regions by code (loaded by the customers migration)."""

import datetime

from crm.customers.models import Region


def region(code: str) -> Region:
    return Region.objects.get(code=code)


def d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


ZHEJIANG, HANGZHOU, NINGBO = "330000", "330100", "330200"
GUANGDONG, GUANGZHOU = "440000", "440100"
