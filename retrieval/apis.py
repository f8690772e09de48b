"""REST API (v1): thin views over selectors and services."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from patentsearch.permissions import CanSearch
from patentsearch.throttles import SearchRateThrottle
from retrieval.images import content_type
from retrieval.models import Figure
from retrieval.search_input import SearchInputSerializer
from retrieval.selectors.class_focus import SCHEMES
from retrieval.selectors.search import FigureHit, figure_search, search_filters


class FigureHitSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    score = serializers.FloatField()
    figure_id = serializers.IntegerField(source="figure.pk")
    patent_id = serializers.CharField(source="figure.patent.patent_id")
    figure_label = serializers.CharField(source="figure.figure_label")
    image_url = serializers.SerializerMethodField()
    source_file = serializers.CharField(source="figure.source_file")
    page = serializers.IntegerField(source="figure.page")
    corpus = serializers.CharField(source="figure.corpus.name")
    title = serializers.CharField(source="figure.patent.title")
    object_name = serializers.CharField(source="figure.patent.object_name")
    viewpoint = serializers.CharField(source="figure.viewpoint")
    caption = serializers.CharField(source="figure.caption")
    locarno_class = serializers.CharField(source="figure.patent.locarno_class")
    us_class = serializers.CharField(source="figure.patent.us_class")
    us_class_main = serializers.CharField(source="figure.patent.us_class_main")
    grant_date = serializers.DateField(source="figure.patent.grant_date")
    channels = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Rank of the figure in each search channel that found it (drawing, text_tower, "
        "fulltext, trigram, sentence, joint): why it matched.",
    )
    class_boost = serializers.FloatField(
        help_text="What the class focus added to the figure's normalised score (0: not lifted); the "
        "score itself is unchanged, so with the focus on the list is not sorted by score.",
    )
    identical = serializers.BooleanField(
        help_text="The figure's drawing is one of the query's drawings (the same pixels: drawing cosine "
        "at RETRIEVAL_IDENTICAL_MIN_COSINE or above): such figures come first, whatever the text and the class focus.",
    )

    def get_image_url(self, hit: FigureHit) -> str:
        path = reverse("retrieval:figure-image", args=[hit.figure.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class FocusClassSerializer(serializers.Serializer):
    scheme = serializers.ChoiceField(choices=[key for key, _ in SCHEMES])
    label = serializers.CharField(help_text="e.g. D21 (US main class) or 21-01 (Locarno class).")
    share = serializers.FloatField(help_text="The class's share of its scheme's votes, 0-1.")


class ClassFocusSerializer(serializers.Serializer):
    """What the class focus voted (a ClassFocus, or the dict a case's search log stored of one)."""

    weight = serializers.FloatField(help_text="The focus's weight (in units of the list's score range).")
    patents = serializers.ListField(child=serializers.CharField(), help_text="The voting patents, best first.")
    classes = FocusClassSerializer(many=True)


class SearchOutputSerializer(serializers.Serializer):
    model = serializers.CharField(source="model.name")
    seconds = serializers.FloatField()
    count = serializers.SerializerMethodField()
    hits = FigureHitSerializer(many=True)
    class_focus = ClassFocusSerializer(
        source="focus", allow_null=True,
        help_text="The classes the best hits voted for, ranked first; null: the focus was off "
        "(class_focus=false) or none of the voting patents has a class.",
    )
    words_matched = serializers.BooleanField(
        allow_null=True,
        help_text="With a text: whether any figure's words (full text, or trigrams for misspellings) "
        "matched it; false: every hit is a neighbour in meaning only. null: no text.",
    )
    excluded = serializers.ListField(
        child=serializers.CharField(), help_text="The text's \"-word\" terms (a word, or a quoted phrase): every figure "
        "whose title, object name, caption or descriptions hold one is left out, whichever channel found it.",
    )
    unsearched = serializers.IntegerField(
        allow_null=True, help_text="Figures within the filters that the query could not be compared with yet: with a "
        "drawing, those without a vector under the model (a worker is still encoding them); a text alone, those "
        "without a text row (a worker is still indexing their words). 0 when the search saw every figure.",
    )

    def get_count(self, result: object) -> int:
        return len(result.hits)  # type: ignore[attr-defined]


class FigureSearchApi(APIView):
    """Search figures by a drawing (multipart `image`), a text, or both; best hits first.

    With ``class_focus`` (default true) the figures of the best hits' classes are ranked first
    and the order is the focus's, not the score's (``class_focus`` in the answer says why)."""

    parser_classes = [MultiPartParser, FormParser]
    permission_classes = [IsAuthenticated, CanSearch]
    throttle_classes = [SearchRateThrottle]

    @extend_schema(request=SearchInputSerializer, responses=SearchOutputSerializer)
    def post(self, request: Request) -> Response:
        form = SearchInputSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        data = form.validated_data
        result = figure_search(
            image=data.get("image"), text=data["text"], text_weight=data["text_weight"],
            k=data["k"], filters=search_filters(data), class_focus=data["class_focus"],
        )
        return Response(SearchOutputSerializer(result, context={"request": request}).data)


class FigureImageApi(APIView):
    """The stored image of a figure (session or token authentication).

    The content type comes from the stored file's validated format (PNG or JPEG, see
    retrieval.images), never from the file or its name as uploaded; anything else is not served.
    """

    @extend_schema(responses={(200, "image/*"): bytes})
    def get(self, request: Request, pk: int) -> FileResponse:
        figure = get_object_or_404(Figure, pk=pk)
        kind = content_type(figure.image.name.rsplit(".", 1)[-1]) if figure.image.name else None
        if kind is None:
            raise Http404("This figure has no image in a format that can be shown.")
        try:
            handle = figure.image.open("rb")
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise Http404("This figure's image file is missing.") from exc
        response = FileResponse(handle, content_type=kind)
        response["Cache-Control"] = "private, max-age=86400"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["X-Content-Type-Options"] = "nosniff"
        return response
