"""Input and output shapes of the cases API, shared by the API and the pages (one validation)."""

from __future__ import annotations

import datetime as dt
import json

from django.conf import settings
from django.core.validators import MinValueValidator
from django.urls import reverse
from rest_framework import serializers

from cases.models import Case, CaseSearch, Judgment, LoggedHit, QueryImage
from cases.query_images import crop_check
from cases.selectors.cases import figure_label
from cases.services.searches import QueryDrawing
from patentsearch.exceptions import ApplicationError
from retrieval.apis import ClassFocusSerializer
from retrieval.search_input import (
    ResultCountField,
    SearchInputSerializer,
    date_order_check,
    query_drawing_check,
)

EARLIEST_CUTOFF = dt.date(1790, 1, 1)  # before the first patent (US, 1790): nothing is prior art to it


def cutoff_field(**kwargs: object) -> serializers.DateField:
    """A cutoff (filing or priority) date: searches keep grant_date < it. One field for the case's
    cutoff and a search's override; a year-1 date left no day before it (an overflow, a 500)."""
    message = f"A cutoff date is {EARLIEST_CUTOFF.isoformat()} or later."
    return _DateField(validators=[MinValueValidator(EARLIEST_CUTOFF, message=message)], **kwargs)


class _DateField(serializers.DateField):
    """A date field whose blank value (a date input left empty) is "required" where the field is,
    and "may not be blank" where it may be left out (a case's cutoff is never cleared), not a
    format error."""

    default_error_messages = {"blank": "This field may not be blank."}

    def to_internal_value(self, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            self.fail("required" if self.required else "blank")
        return super().to_internal_value(value)


class _CutoffAlias:
    """``cutoff`` is accepted for ``cutoff_date`` (the name a search uses for its override)."""

    def to_internal_value(self, data: object) -> dict:
        if hasattr(data, "get") and data.get("cutoff_date") in (None, "") and data.get("cutoff"):
            data = {**(data.dict() if hasattr(data, "dict") else data), "cutoff_date": data.get("cutoff")}
        return super().to_internal_value(data)  # type: ignore[misc]


class CaseInputSerializer(_CutoffAlias, serializers.Serializer):
    """A new case. Labels are the case pages' (error_messages puts them before a page's errors)."""

    application_number = serializers.CharField(max_length=64)
    title = serializers.CharField(max_length=500)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    locarno_class = serializers.CharField(required=False, allow_blank=True, max_length=16, default="")
    us_class = serializers.CharField(required=False, allow_blank=True, max_length=32, default="", label="US class")
    cutoff_date = cutoff_field(label="Prior-art cutoff", help_text="Filing or priority date: searches keep grant_date < it.")
    notes = serializers.CharField(required=False, allow_blank=True, default="", label="Case notes")


class CasePatchSerializer(_CutoffAlias, serializers.Serializer):
    application_number = serializers.CharField(required=False, max_length=64)
    title = serializers.CharField(required=False, max_length=500)
    description = serializers.CharField(required=False, allow_blank=True)
    locarno_class = serializers.CharField(required=False, allow_blank=True, max_length=16)
    us_class = serializers.CharField(required=False, allow_blank=True, max_length=32, label="US class")
    cutoff_date = cutoff_field(required=False, label="Cutoff")
    notes = serializers.CharField(required=False, allow_blank=True, label="Case notes")
    status = serializers.ChoiceField(choices=Case.Status.choices, required=False,
                                     help_text="closed: read-only; open: reopen.")


class CaseFilterSerializer(serializers.Serializer):
    """Which cases a list shows (the cases page and GET /api/v1/cases/)."""

    q = serializers.CharField(required=False, allow_blank=True, max_length=200, default="", trim_whitespace=True,
                              label="Find", help_text="Part of the application number or the title.")
    status = serializers.ChoiceField(choices=Case.Status.choices, required=False, allow_blank=True, default="",
                                     help_text="open or closed; blank for both.")
    examiner = serializers.CharField(required=False, allow_blank=True, max_length=150, default="",
                                     label="Examiner", help_text="The username of the cases' examiner (admins see "
                                     "every examiner's cases; an examiner only their own).")

    def filters(self) -> dict[str, str]:
        return {"text": self.validated_data["q"], "status": self.validated_data["status"],
                "examiner": self.validated_data["examiner"]}


class CaseOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    application_number = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    locarno_class = serializers.CharField()
    us_class = serializers.CharField()
    cutoff_date = serializers.DateField()
    notes = serializers.CharField()
    status = serializers.CharField()
    examiner = serializers.CharField(source="examiner.username")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    search_count = serializers.IntegerField(default=0)
    judged_count = serializers.IntegerField(default=0)
    citation_count = serializers.IntegerField(default=0)


class CaseSearchInputSerializer(SearchInputSerializer):
    """The search form of today (text, weight, k, filters, class focus) plus several drawings with
    crop boxes, the cutoff override, "more like this" and "refine" (which keeps its base's class focus)."""

    image = None
    query_token = None
    images = serializers.ListField(  # an empty file is refused by validate_images, naming the drawing
        child=serializers.FileField(allow_empty_file=True), required=False, default=list, label="Drawings",
        help_text=f"Query drawings (repeat the field, at most {settings.CASES_MAX_QUERY_IMAGES}): "
        "PNG, JPEG, TIFF or PDF.",
    )
    crops = serializers.CharField(
        required=False, allow_blank=True, default="", label="Crop boxes",
        help_text="JSON list, one [left, top, right, bottom] (fractions 0..1) or null per image.",
    )
    cutoff = cutoff_field(required=False, label="Cutoff for this search", help_text="Override the case's cutoff for this search (logged).")
    ignore_cutoff = serializers.BooleanField(required=False, default=False, label="No cutoff for this search",
                                             help_text="No cutoff (logged).")
    like_figure = serializers.IntegerField(required=False, min_value=1, label="More like this", help_text="More like this figure.")
    refine = serializers.IntegerField(required=False, min_value=1, label="Refine", help_text="Refine this logged search.")

    def validate_images(self, uploads: list) -> list[tuple[bytes, str, object]]:
        if len(uploads) > settings.CASES_MAX_QUERY_IMAGES:
            raise serializers.ValidationError(
                f"{len(uploads)} drawings sent; a query takes at most {settings.CASES_MAX_QUERY_IMAGES}."
            )
        checked = []
        for position, upload in enumerate(uploads, start=1):  # the search's own checks; never kept by token
            name = getattr(upload, "name", "") or "drawing"
            try:
                data, page = query_drawing_check(upload)
            except serializers.ValidationError as exc:  # which of the drawings: the examiner may have sent eight
                raise serializers.ValidationError(f"drawing {position} ({name}): {exc.detail[0]}") from exc
            checked.append((data, name, page.image))
        return checked

    def validate_crops(self, value: str) -> list:
        if not value.strip():
            return []
        try:
            crops = json.loads(value)
        except json.JSONDecodeError as exc:
            raise serializers.ValidationError(f"not JSON: {exc.msg}.") from exc
        except RecursionError as exc:  # "[[[[..." deeper than the decoder goes: no list of boxes either
            raise serializers.ValidationError("not JSON: nested too deeply.") from exc
        if not isinstance(crops, list):
            raise serializers.ValidationError("a JSON list of [left, top, right, bottom] boxes (or null) expected.")
        try:
            return [crop_check(crop, position=i) for i, crop in enumerate(crops)]
        except ApplicationError as exc:
            raise serializers.ValidationError(exc.message) from exc

    #: What a refine takes from its base search, so it may not be sent with one.
    REFINE_TAKES_FROM_BASE = ("text_weight", "k", "corpus", "us_class_main", "locarno_class", "grant_date_from",
                              "grant_date_to", "include_front_page", "cutoff", "ignore_cutoff", "class_focus")

    def validate(self, attrs: dict) -> dict:
        if attrs.get("refine") is not None:
            sent = [key for key in self.REFINE_TAKES_FROM_BASE if self.initial_data.get(key) not in (None, "", [])]
            if sent:  # it would be ignored, and the logged search would not be what was asked for
                raise serializers.ValidationError({"refine": (
                    "A refine runs with its base search's text weight, k, filters, cutoff and class focus; "
                    f"leave out {', '.join(sent)}, or run a new search with them."
                )})
        images, crops = attrs.get("images", []), attrs.get("crops", [])
        if len(crops) > len(images):
            raise serializers.ValidationError({"crops": f"{len(crops)} crop boxes for {len(images)} drawings."})
        crops = crops + [None] * (len(images) - len(crops))
        attrs["drawings"] = [QueryDrawing(data=data, filename=name, image=image, crop=crop)
                             for (data, name, image), crop in zip(images, crops, strict=True)]
        date_order_check(attrs)
        start, end = attrs.get("grant_date_from"), attrs.get("grant_date_to")
        attrs["k"] = attrs.get("k") or settings.RETRIEVAL_DEFAULT_K
        attrs["filters"] = {
            "corpus": attrs.get("corpus", []), "us_class_main": attrs.get("us_class_main", []),
            "locarno_class": attrs.get("locarno_class", []),
            "grant_date_from": start.isoformat() if start else None, "grant_date_to": end.isoformat() if end else None,
            "include_front_page": attrs.get("include_front_page", False),
        }
        return attrs

    def service_arguments(self) -> dict:
        data = self.validated_data
        return {"drawings": data["drawings"], "text": data.get("text", ""), "text_weight": data["text_weight"],
                "k": data["k"], "filters": data["filters"], "cutoff": data.get("cutoff"),
                "ignore_cutoff": data["ignore_cutoff"], "like_figure": data.get("like_figure"),
                "refine": data.get("refine"), "class_focus": data["class_focus"]}


def _url(context: dict, path: str) -> str:
    request = context.get("request")
    return request.build_absolute_uri(path) if request else path


class QueryImageSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    filename = serializers.CharField()
    sha256 = serializers.CharField()
    crop = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    url = serializers.SerializerMethodField()

    def get_url(self, image: QueryImage) -> str:
        search = image.search
        return _url(self.context, reverse("api-case-query-image", args=[search.case_id, search.pk, image.position]))


class JudgmentValueSerializer(serializers.Serializer):
    grade = serializers.IntegerField(allow_null=True)
    category = serializers.CharField()
    note = serializers.CharField()


class LoggedHitSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    figure_id = serializers.IntegerField()
    score = serializers.FloatField()
    patent_id = serializers.CharField(source="figure.patent.patent_id")
    figure_label = serializers.SerializerMethodField()
    title = serializers.CharField(source="figure.patent.title")
    grant_date = serializers.DateField(source="figure.patent.grant_date", allow_null=True)
    image_url = serializers.SerializerMethodField()
    judgment = serializers.SerializerMethodField()
    identical = serializers.BooleanField(help_text="The query's own drawing: ranked first for that.")

    def get_figure_label(self, hit: LoggedHit) -> str:
        return figure_label(hit.figure)

    def get_image_url(self, hit: LoggedHit) -> str:
        return _url(self.context, reverse("retrieval:figure-image", args=[hit.figure_id]))

    def get_judgment(self, hit: LoggedHit) -> dict | None:
        judgment = self.context.get("judgments", {}).get(hit.figure_id)
        return JudgmentValueSerializer(judgment).data if judgment else None


class CaseSearchOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField(source="case_id")
    number = serializers.IntegerField()
    created_by = serializers.CharField(source="created_by.username")
    created_at = serializers.DateTimeField()
    origin = serializers.CharField()
    text = serializers.CharField()
    text_weight = serializers.FloatField()
    k = serializers.IntegerField()
    filters = serializers.JSONField()
    cutoff_date = serializers.DateField(allow_null=True)
    cutoff_overridden = serializers.BooleanField()
    like_figure = serializers.IntegerField(source="like_figure_id", allow_null=True)
    refined_from = serializers.IntegerField(source="refined_from_id", allow_null=True)
    rerun_of = serializers.IntegerField(source="rerun_of_id", allow_null=True)
    feedback = serializers.JSONField()
    model = serializers.CharField(source="model_name")
    model_version = serializers.CharField()
    seconds = serializers.FloatField()
    images = serializers.SerializerMethodField()
    hits = serializers.SerializerMethodField()
    class_focus_on = serializers.BooleanField(help_text="The class focus ranked the best hits' classes first.")
    class_focus = ClassFocusSerializer(
        allow_null=True, help_text="What the class focus voted, as logged; null: off, or no voting patent had a class.",
    )
    words_matched = serializers.BooleanField(
        allow_null=True, help_text="False: no figure's words or near spellings matched the text, so the hits are "
        "only neighbours in meaning; null: no text, or logged before it was recorded.",
    )
    unsearched = serializers.IntegerField(
        allow_null=True, help_text="Figures within the filters that the search could not be compared with yet (with a "
        "drawing: no vector under the model yet; a text alone: no text row yet): not a complete search unless 0; "
        "null: logged before it was recorded.",
    )

    def get_images(self, search: CaseSearch) -> list[dict]:
        return QueryImageSerializer(search.images.all(), many=True, context=self.context).data

    def get_hits(self, search: CaseSearch) -> list[dict]:
        hits = self.context.get("hits")
        return LoggedHitSerializer(hits if hits is not None else [], many=True, context=self.context).data


class CaseSearchSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    created_by = serializers.CharField(source="created_by.username")
    created_at = serializers.DateTimeField()
    origin = serializers.CharField()
    text = serializers.CharField()
    k = serializers.IntegerField()
    cutoff_date = serializers.DateField(allow_null=True)
    cutoff_overridden = serializers.BooleanField()
    model = serializers.CharField(source="model_name")
    hit_count = serializers.IntegerField(default=0)


class RerunInputSerializer(serializers.Serializer):
    """A re-run of a logged search, as it ran or deeper: the API's body and the search page's
    "Search deeper" button."""

    k = ResultCountField(
        help_text="Hits of the re-run; missing: as many as the logged search had. A larger k searches "
        "deeper: the re-run's new hits are the ones beyond the logged list.",
    )

    @property
    def page_messages(self) -> dict[str, str]:
        return {"max_k": ResultCountField.page_message()}


class RerunOutputSerializer(serializers.Serializer):
    search = CaseSearchOutputSerializer()
    new = LoggedHitSerializer(many=True)
    dropped = LoggedHitSerializer(many=True)
    kept = serializers.IntegerField()


class JudgmentsCsvQuerySerializer(serializers.Serializer):
    case = serializers.IntegerField(required=False, min_value=1, help_text="Only this case.")


class LikeFigureInputSerializer(serializers.Serializer):
    """The "more like this" button of a search page: the figure to search like."""

    figure = serializers.IntegerField(min_value=1, label="More like this", error_messages={
        "required": "Choose a figure.", "invalid": "Choose a figure."})


class JudgmentInputSerializer(serializers.Serializer):
    grade = serializers.IntegerField(required=False, allow_null=True, help_text="0-3, or null to clear.")
    category = serializers.CharField(required=False, allow_blank=True, max_length=8,
                                     help_text='X, Y or A; "" clears.')
    note = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    search = serializers.IntegerField(required=False, allow_null=True,
                                      help_text="The logged search in which the figure was judged.")


class JudgmentChangeSerializer(serializers.Serializer):
    changed_by = serializers.CharField(source="changed_by.username")
    changed_at = serializers.DateTimeField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField()


class JudgmentOutputSerializer(serializers.Serializer):
    case = serializers.IntegerField(source="case_id")
    figure_id = serializers.IntegerField()
    grade = serializers.IntegerField(allow_null=True)
    category = serializers.CharField()
    note = serializers.CharField()
    search = serializers.IntegerField(source="search_id", allow_null=True)
    judged_by = serializers.CharField(source="judged_by.username")
    judged_at = serializers.DateTimeField()
    history = serializers.SerializerMethodField()

    def get_history(self, judgment: Judgment) -> list[dict]:
        return JudgmentChangeSerializer(self.context.get("history", []), many=True).data
