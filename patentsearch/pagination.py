"""The API's one pagination: ``?limit=`` and ``?offset=`` (DRF's LimitOffsetPagination) with a
ceiling on ``limit``.

Without one, ``?limit=10**30`` reached PostgreSQL as ``LIMIT 1000000000000000000000000000000``
and failed there ("bigint out of range": a 500). A larger limit is lowered to the ceiling, as DRF
does with ``max_limit``; the response's ``next`` link carries on from there. A huge ``offset`` needs
no ceiling: past the count, DRF answers an empty page without a query.
"""

from __future__ import annotations

from rest_framework.pagination import LimitOffsetPagination

MAX_LIMIT = 1000


class Pagination(LimitOffsetPagination):
    max_limit = MAX_LIMIT
