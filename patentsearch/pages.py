"""The pages' one pagination (server-rendered lists; the API's is patentsearch.pagination).

``page_of(request, items, per_page, param)`` reads the page number from ``?{param}=`` and clamps
it as Django's ``Paginator.get_page`` does: anything that is not a whole number (``abc``, ``%00``,
a number too long for ``int``) is the first page, a number past the end (``99999``, ``0``, ``-1``)
the last. So a bad page parameter never answers 500 nor an empty page.

A page that holds several lists gives each its own parameter (the case page: ``page`` for the
search log, ``citations_page``, ``notes_page``). The page's links (``previous_link``,
``next_link``, shown by templates/_pager.html) change only their own parameter and keep every
other one of the request, so following one list's link keeps the other lists on their pages.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, QueryDict


class LinkedPage(Page):
    """A page that links to its neighbours with the request's other query parameters kept."""

    paginator: _LinkedPaginator

    def link(self, number: int) -> str:
        query = self.paginator.query.copy()
        query[self.paginator.param] = str(number)
        return f"?{query.urlencode()}"

    @property
    def previous_link(self) -> str:
        return self.link(self.previous_page_number())

    @property
    def next_link(self) -> str:
        return self.link(self.next_page_number())


class _LinkedPaginator(Paginator):
    def __init__(self, items: Any, per_page: int, *, query: QueryDict, param: str) -> None:
        super().__init__(items, per_page)
        self.query, self.param = query, param

    def _get_page(self, *args: Any, **kwargs: Any) -> LinkedPage:
        return LinkedPage(*args, **kwargs)


def page_of(request: HttpRequest, items: Any, per_page: int, param: str = "page") -> LinkedPage:
    """The page of ``items`` (a queryset with a stable order, or a list) that ``?{param}=`` asks for."""
    paginator = _LinkedPaginator(items, per_page, query=request.GET, param=param)
    return paginator.get_page(request.GET.get(param))
