"""The API's one pagination: ``?limit=`` and ``?offset=`` (DRF's LimitOffsetPagination) with a
ceiling on ``limit``.

Without one, ``?limit=10**30`` reached PostgreSQL as ``LIMIT 1000000000000000000000000000000``
and failed there ("bigint out of range": a 500). A larger limit is lowered to the ceiling, as DRF
does with ``max_limit``; the response's ``next`` link carries on from there. A huge ``offset`` needs
no ceiling: past the count, DRF answers an empty page without a query.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination

MAX_LIMIT = 1000


class Pagination(LimitOffsetPagination):
    max_limit = MAX_LIMIT


def paged_schema(
    item: type[serializers.Serializer], operation_id: str, filters: type[serializers.Serializer] | None = None
) -> dict[str, Any]:
    """``extend_schema`` arguments for an APIView's GET that answers a page of ``item``: the
    schema says what the view sends (``count``, ``next``, ``previous``, ``results``) and takes
    (``limit``, ``offset``, and the query parameters of a ``filters`` serializer), as
    drf-spectacular says for generic list views by itself, under its ``…_list`` operation id (an
    APIView's GET would otherwise share ``…_retrieve`` with the detail)."""
    name = item.__name__.removesuffix("Serializer")
    return {
        "operation_id": operation_id,
        "parameters": [
            *([filters] if filters else []),
            OpenApiParameter("limit", int, description=f"items per page (at most {MAX_LIMIT})"),
            OpenApiParameter("offset", int, description="items to skip"),
        ],
        "responses": inline_serializer(f"Paginated{name}List", fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item(many=True),
        }),
    }
