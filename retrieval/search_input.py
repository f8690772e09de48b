"""The search form shared by the API and the HTML page: one validation, two interfaces.

An interface: it checks and converts what a user sent (corpus names resolve through a
selector) and builds no query itself; selectors.search.search_filters turns its data into the
index's filters."""

from __future__ import annotations

import hashlib
import io

from django.conf import settings
from django.core.cache import caches
from django.http import QueryDict
from PIL import Image
from rest_framework import serializers

from retrieval.exceptions import InvalidImageError
from retrieval.images import read_first_page
from retrieval.selectors.corpora import corpus_ids_for

MAX_LIST_VALUES = 100  # per list filter; each value costs the index a condition


class CommaListField(serializers.ListField):
    """Repeated form keys or one comma-separated value: ?us_class_main=D14&us_class_main=D21 or D14,D21."""

    child = serializers.CharField(max_length=100)

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("max_length", MAX_LIST_VALUES)
        super().__init__(**kwargs)

    def to_internal_value(self, data: object) -> list[str]:
        items = data if isinstance(data, list) else [data]
        values = [part.strip() for item in items for part in str(item).split(",") if part.strip()]
        return super().to_internal_value(values)


class ResultCountField(serializers.IntegerField):
    """How many hits a search returns (``k``): 1 to ``RETRIEVAL_MAX_K``, read when a request is
    checked (the setting may change after import). A search, a case search and a re-run."""

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Results")
        super().__init__(min_value=1, **kwargs)

    def to_internal_value(self, data: object) -> int:
        value = super().to_internal_value(data)
        if value > settings.RETRIEVAL_MAX_K:
            raise serializers.ValidationError(f"k may be at most {settings.RETRIEVAL_MAX_K}.", code="max_k")
        return value

    @staticmethod
    def page_message() -> str:
        """The refusal's words on a page, after the field's label (a form's ``page_messages``)."""
        return f"at most {settings.RETRIEVAL_MAX_K}."


def deeper_k(k: int, shown: int) -> int | None:
    """The k of "Search deeper" at the end of a list (twice its k, within ``RETRIEVAL_MAX_K``);
    None where the list is shorter than its k (nothing more matched) or k is at the limit."""
    if shown < k or k >= settings.RETRIEVAL_MAX_K:
        return None
    return min(2 * k, settings.RETRIEVAL_MAX_K)


class SearchInputSerializer(serializers.Serializer):
    """The search form. Labels are the search page's (error_messages puts them before a page's
    errors; the API's errors name the fields by their keys)."""

    image = serializers.FileField(required=False, label="Drawing", help_text="The query drawing: PNG, JPEG, TIFF or PDF.")
    query_token = serializers.CharField(
        required=False, max_length=64, label="Earlier drawing", help_text="Search again with the drawing of an earlier search."
    )
    text = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="", label="Description")
    text_weight = serializers.FloatField(required=False, min_value=0.0, max_value=1.0, default=0.5)
    k = ResultCountField()
    corpus = CommaListField(required=False, help_text="Corpus ids or names.")
    us_class_main = CommaListField(required=False, label="US class", help_text="US design classes, e.g. D14.")
    locarno_class = CommaListField(required=False, help_text="Locarno class-subclasses, e.g. 14-04.")
    grant_date_from = serializers.DateField(required=False, label="Granted from")
    grant_date_to = serializers.DateField(required=False, label="Granted to")
    include_front_page = serializers.BooleanField(required=False, default=False)
    class_focus = serializers.BooleanField(
        required=False, default=True, label="Rank the best hits' classes first",
        help_text="Rank the figures of the best hits' classes (US main class, Locarno class) first "
        "(retrieval.selectors.class_focus); false: by score alone. Missing: true.",
    )

    def validate_image(self, upload: object) -> object:
        data, page = query_drawing_check(upload)
        self._token = hashlib.sha256(data).hexdigest()
        # the decoded first page (a fresh PNG), never the upload as sent; for this user only
        query_cache().set(_cache_key(self._user_pk(), self._token), page.data, QUERY_CACHE_SECONDS)
        return page.image

    def _user_pk(self) -> object:
        return getattr(getattr(self.context.get("request"), "user", None), "pk", None)

    def validate_corpus(self, values: list[str]) -> list[int]:
        """Corpus ids or names; any that names no corpus is an error."""
        ids, unknown = corpus_ids_for(values)
        if unknown:
            raise serializers.ValidationError(f"Unknown corpus: {', '.join(unknown)}.")
        return ids

    def validate(self, attrs: dict) -> dict:
        if attrs.get("image") is None and attrs.get("query_token"):
            attrs["image"] = _cached_query(self._user_pk(), attrs["query_token"])
        attrs["query_token"] = getattr(self, "_token", "") or attrs.get("query_token", "")
        if attrs.get("image") is None and not attrs.get("text", "").strip():
            raise serializers.ValidationError("Upload a drawing (image) or type a description (text).",
                                              code="no_query")
        date_order_check(attrs)
        attrs["k"] = attrs.get("k") or settings.RETRIEVAL_DEFAULT_K
        return attrs

    @property
    def page_messages(self) -> dict[str, str]:
        """The errors whose API wording names fields, as a page says them (by code; error_messages)."""
        return {
            "max_k": ResultCountField.page_message(),
            "no_query": "Upload a drawing or type a description.",
            "date_order": "The “Granted from” date is after the “to” date.",
        }


def date_order_check(attrs: dict) -> None:
    """The grant date range of a search form, its start not after its end."""
    start, end = attrs.get("grant_date_from"), attrs.get("grant_date_to")
    if start and end and start > end:
        raise serializers.ValidationError("grant_date_from is after grant_date_to.", code="date_order")


def query_drawing_check(upload: object) -> tuple[bytes, object]:
    """An uploaded query drawing, checked: (the file's bytes, its decoded first page); a
    ValidationError for a file over RETRIEVAL_MAX_IMAGE_BYTES or one that cannot be read."""
    size = getattr(upload, "size", 0)
    if size > settings.RETRIEVAL_MAX_IMAGE_BYTES:
        raise serializers.ValidationError(
            f"The file is {size:,} bytes; the limit is {settings.RETRIEVAL_MAX_IMAGE_BYTES:,}."
        )
    data = upload.read()  # type: ignore[attr-defined]
    try:
        page = read_first_page(data, max_pixels=settings.RETRIEVAL_MAX_IMAGE_PIXELS, pdf_dpi=settings.RETRIEVAL_PDF_DPI)
    except InvalidImageError as exc:
        raise serializers.ValidationError(f"The file cannot be used: {exc.message}.") from exc
    return data, page


#: The search form's fields that a page sends as repeated keys (multiple selects).
LIST_FIELDS = ("corpus", "us_class_main", "locarno_class")


def form_data(post: QueryDict) -> dict[str, object]:
    """A search page's POST as the search form's data (SearchInputSerializer and the case
    composer's): the single fields without the blank ones, the lists of :data:`LIST_FIELDS`
    without blanks, and the class focus box (:func:`checkbox_value`). Files are the page's own."""
    fields: dict[str, object] = {
        key: value for key, value in post.dict().items()
        if value != "" and key != "class_focus" and key not in LIST_FIELDS
    }
    for key in LIST_FIELDS:
        values = [v for v in post.getlist(key) if v]
        if values:
            fields[key] = values
    return {**fields, **checkbox_value(post, "class_focus")}


def checkbox_value(post: QueryDict, name: str) -> dict[str, str]:
    """A page's checkbox for a form field whose default is true (``class_focus``). An unticked
    box sends nothing, which the field would read as its default, so the page sends a hidden
    ``name=false`` before the box's ``name=true``: "true" among the values sent means ticked,
    else the last value sent (checked by the field); nothing sent: {} (the field's default)."""
    values = [value for value in post.getlist(name) if value != ""]
    if not values:
        return {}
    return {name: "true" if "true" in values else values[-1]}


QUERY_CACHE_PREFIX = "query-page:"
QUERY_CACHE_SECONDS = 6 * 60 * 60


def query_cache():  # noqa: ANN201
    """The capped, least-recently-used Redis of query pages (settings.CACHES["queries"])."""
    return caches["queries"]


def _cache_key(user_pk: object, token: str) -> str:
    """A kept drawing is the sender's: the token (the file's SHA-256, which anyone holding the file
    can compute) finds it only for the user who sent it."""
    return f"{QUERY_CACHE_PREFIX}{user_pk}:{token}"


def _cached_query(user_pk: object, token: str) -> object:
    data = query_cache().get(_cache_key(user_pk, token))
    if data is None:
        raise serializers.ValidationError({"query_token": "The earlier drawing has expired; upload it again."})
    return Image.open(io.BytesIO(data))  # a PNG this module decoded and wrote
