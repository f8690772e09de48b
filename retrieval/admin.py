from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from retrieval.models import Corpus, Figure, FigureEmbedding, FigureText, Patent, RetrievalModel


@admin.register(Corpus)
class CorpusAdmin(admin.ModelAdmin):
    list_display = ("name", "figure_count", "source", "created_by", "created_at")
    search_fields = ("name", "description")
    readonly_fields = ("created_at",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Corpus]:
        return super().get_queryset(request).annotate(_figures=Count("figures"))

    @admin.display(ordering="_figures", description="figures")
    def figure_count(self, corpus: Corpus) -> int:
        return corpus._figures  # type: ignore[attr-defined]


class FigureInline(admin.TabularInline):
    model = Figure
    fields = ("figure_id", "source_file", "viewpoint", "status")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False


@admin.register(Patent)
class PatentAdmin(admin.ModelAdmin):
    list_display = ("patent_id", "title", "us_class", "locarno_class", "grant_date", "corpus")
    list_filter = ("corpus", "us_class_main")
    search_fields = ("patent_id", "title", "object_name")
    inlines = [FigureInline]


class FigureTextInline(admin.TabularInline):
    model = FigureText
    fields = ("kind", "text", "source")
    extra = 0


@admin.register(Figure)
class FigureAdmin(admin.ModelAdmin):
    list_display = ("__str__", "thumbnail", "viewpoint", "corpus", "status", "is_front_page")
    list_filter = ("status", "corpus", "is_front_page")
    search_fields = ("patent__patent_id", "source_file", "caption")
    readonly_fields = ("thumbnail", "sha256", "width", "height", "created_at")
    raw_id_fields = ("patent",)
    inlines = [FigureTextInline]

    @admin.display(description="image")
    def thumbnail(self, figure: Figure) -> str:
        url = reverse("retrieval:figure-image", args=[figure.pk])
        return format_html('<img src="{}" style="max-height:80px;max-width:120px">', url)


@admin.register(FigureText)
class FigureTextAdmin(admin.ModelAdmin):
    list_display = ("figure", "kind", "source", "__str__")
    list_filter = ("kind", "source")
    search_fields = ("text",)
    raw_id_fields = ("figure",)


@admin.register(RetrievalModel)
class RetrievalModelAdmin(admin.ModelAdmin):
    list_display = ("name", "architecture", "dim", "is_active", "created_at")
    readonly_fields = ("architecture", "dim", "version", "created_at")


@admin.register(FigureEmbedding)
class FigureEmbeddingAdmin(admin.ModelAdmin):
    list_display = ("figure", "model", "created_at")
    list_filter = ("model",)
    raw_id_fields = ("figure",)
    exclude = ("embedding",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
