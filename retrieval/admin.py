from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from patentsearch.exceptions import ApplicationError
from retrieval.exceptions import InvalidImageError
from retrieval.images import read_pages
from retrieval.ingest.figure_files import figure_file_store
from retrieval.models import Corpus, Figure, FigureEmbedding, FigureText, Patent, RetrievalModel
from retrieval.services.catalog import catalog_attributes_changed, figure_texts_changed
from retrieval.services.encoding import figures_reencode
from retrieval.services.models import model_activate, model_delete


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
    fields = ("figure_label", "source_file", "viewpoint", "status")
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

    def save_model(self, request: HttpRequest, obj: Patent, form: object, change: bool) -> None:
        super().save_model(request, obj, form, change)
        catalog_attributes_changed(patent_ids=[obj.pk], fields=form.changed_data if change else None)  # type: ignore[attr-defined]


class FigureTextInline(admin.TabularInline):
    model = FigureText
    fields = ("kind", "text", "source")
    extra = 0


class FigureAdminForm(forms.ModelForm):
    """An uploaded image passes the same checks as ingest (retrieval.images) and is stored the
    same way (by content, as PNG or JPEG), so nothing else is ever served as a figure."""

    class Meta:
        model = Figure
        fields = "__all__"

    def clean_image(self) -> object:
        upload = self.cleaned_data.get("image")
        if not isinstance(upload, UploadedFile):
            return upload  # the stored file, unchanged
        if upload.size > settings.RETRIEVAL_MAX_IMAGE_BYTES:
            raise forms.ValidationError(f"The file is over {settings.RETRIEVAL_MAX_IMAGE_BYTES:,} bytes.")
        try:
            pages = read_pages(upload.read(), max_pixels=settings.RETRIEVAL_MAX_IMAGE_PIXELS)
        except InvalidImageError as exc:
            raise forms.ValidationError(f"The file cannot be used: {exc.message}.") from exc
        if len(pages) != 1:
            raise forms.ValidationError("Upload a single page; a figure is one page.")
        self._page = pages[0]
        return upload

    def clean(self) -> dict:
        data = super().clean()
        page = getattr(self, "_page", None)
        if page is not None and data.get("patent") is not None:
            duplicate = Figure.objects.filter(patent=data["patent"], sha256=page.sha256).exclude(pk=self.instance.pk)
            if duplicate.exists():
                self.add_error("image", "This patent already has a figure with this image.")
        return data

    def save(self, commit: bool = True) -> Figure:
        page = getattr(self, "_page", None)
        if page is not None:
            self.instance.image, _ = figure_file_store(page)  # never the upload's own name or type
            self.instance.sha256, self.instance.width, self.instance.height = page.sha256, page.width, page.height
        return super().save(commit=commit)


@admin.register(Figure)
class FigureAdmin(admin.ModelAdmin):
    form = FigureAdminForm
    list_display = ("__str__", "thumbnail", "viewpoint", "corpus", "status", "is_front_page")
    list_filter = ("status", "corpus", "is_front_page")
    search_fields = ("patent__patent_id", "source_file", "caption")
    readonly_fields = ("thumbnail", "sha256", "width", "height", "created_at")
    raw_id_fields = ("patent",)
    inlines = [FigureTextInline]

    def save_model(self, request: HttpRequest, obj: Figure, form: object, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if "image" in form.changed_data:  # type: ignore[attr-defined]
            figures_reencode(figure_ids=[obj.pk])

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: list, change: bool) -> None:
        """After the figure and its descriptions (the inline) are saved, once for both: the
        search copies of its attributes, and its text row where its words changed (the admin
        calls this after save_model on every save)."""
        super().save_related(request, form, formsets, change)
        edited = [*form.changed_data, *(["texts"] if any(formset.has_changed() for formset in formsets) else [])]
        catalog_attributes_changed(figure_ids=[form.instance.pk], fields=edited if change else None)

    @admin.display(description="image")
    def thumbnail(self, figure: Figure) -> str:
        url = reverse("retrieval:figure-image", args=[figure.pk])
        return format_html('<img src="{}" style="max-height:80px;max-width:120px">', url)


@admin.register(FigureText)
class FigureTextAdmin(admin.ModelAdmin):
    """A figure's descriptions are in its text row, which is rebuilt after every change here."""

    list_display = ("figure", "kind", "source", "__str__")
    list_filter = ("kind", "source")
    search_fields = ("text",)
    raw_id_fields = ("figure",)

    def save_model(self, request: HttpRequest, obj: FigureText, form: object, change: bool) -> None:
        previous = FigureText.objects.filter(pk=obj.pk).values_list("figure_id", flat=True).first() if change else None
        super().save_model(request, obj, form, change)
        figure_texts_changed(figure_ids=[obj.figure_id] + ([previous] if previous else []))

    def delete_model(self, request: HttpRequest, obj: FigureText) -> None:
        figure_id = obj.figure_id
        super().delete_model(request, obj)
        figure_texts_changed(figure_ids=[figure_id])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[FigureText]) -> None:
        figure_ids = list(queryset.values_list("figure_id", flat=True))
        super().delete_queryset(request, queryset)
        figure_texts_changed(figure_ids=figure_ids)


@admin.register(RetrievalModel)
class RetrievalModelAdmin(admin.ModelAdmin):
    list_display = ("name", "architecture", "dim", "is_active", "figures_encoded", "created_at")
    readonly_fields = ("architecture", "dim", "checkpoint", "version", "is_active", "created_at")
    actions = ["activate"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # models are registered from checkpoints: manage.py register_model

    @admin.display(description="figures encoded")
    def figures_encoded(self, model: RetrievalModel) -> int:
        return model.embeddings.count()

    @admin.action(description="Activate (search uses it; missing figures are encoded)", permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet[RetrievalModel]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one model to activate.", messages.ERROR)
            return
        model = model_activate(model=queryset.get())
        self.message_user(request, f"{model.name} is active; figures without its vectors are queued.")

    def delete_model(self, request: HttpRequest, obj: RetrievalModel) -> None:
        try:
            model_delete(model=obj)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[RetrievalModel]) -> None:
        for model in queryset:
            self.delete_model(request, model)


@admin.register(FigureEmbedding)
class FigureEmbeddingAdmin(admin.ModelAdmin):
    list_display = ("figure", "model", "created_at")
    list_filter = ("model",)
    raw_id_fields = ("figure",)
    exclude = ("embedding",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
