"""The data of PatentSearch: corpora of patents and their figures, models, embeddings, texts."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from pgvector.django import HalfVectorField, VectorField


class Corpus(models.Model):
    """A named collection of patent figures, loaded by one or more ingests of a corpus folder."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    source = models.CharField(max_length=1000, blank=True, help_text="Folder or archive last ingested.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "corpora"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Patent(models.Model):
    """A design patent; identified by its patent number across all corpora."""

    patent_id = models.CharField(max_length=64, unique=True)
    corpus = models.ForeignKey(Corpus, on_delete=models.CASCADE, related_name="patents")
    title = models.CharField(max_length=500, blank=True)
    object_name = models.CharField(max_length=300, blank=True)
    locarno_class = models.CharField(max_length=16, blank=True, db_index=True)
    us_class = models.CharField(max_length=32, blank=True)
    us_class_main = models.CharField(max_length=16, blank=True, db_index=True)
    grant_date = models.DateField(null=True, blank=True, db_index=True)
    grant_date_is_year_only = models.BooleanField(default=False)

    class Meta:
        ordering = ["patent_id"]

    def __str__(self) -> str:
        return self.patent_id


class Figure(models.Model):
    """One drawing (a figure, a sheet or a page) of a patent, stored once per image content."""

    class Status(models.TextChoices):
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    patent = models.ForeignKey(Patent, on_delete=models.CASCADE, related_name="figures")
    corpus = models.ForeignKey(Corpus, on_delete=models.CASCADE, related_name="figures")
    figure_label = models.CharField(
        max_length=64, blank=True, help_text="The figure number (figure_id in metadata.csv), e.g. 1 for FIG. 1."
    )
    source_file = models.CharField(max_length=1000, help_text="image_file in the corpus folder.")
    page = models.PositiveIntegerField(default=0, help_text="Page of a multi-page TIFF or PDF.")
    image = models.FileField(upload_to="figures/", max_length=300)
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    viewpoint = models.CharField(max_length=200, blank=True)
    caption = models.TextField(blank=True)
    is_front_page = models.BooleanField(default=False)
    metadata = models.JSONField(default=dict, blank=True, help_text="Every other metadata column.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.READY)
    error = models.TextField(blank=True)
    encode_queued_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When the broker last took this figure's encoding task (empty: never, or the "
        "broker was unreachable). See retrieval.selectors.encoding.",
    )
    text_queued_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When the broker last took the rebuild of this figure's text row (empty: never, or "
        "the broker was unreachable). See retrieval.services.search_text.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["patent__patent_id", "source_file", "page"]
        constraints = [
            models.UniqueConstraint(fields=["patent", "sha256"], name="figure_unique_patent_content"),
        ]

    def __str__(self) -> str:
        label = f"FIG. {self.figure_label}" if self.figure_label else self.source_file
        return f"{self.patent.patent_id} {label}"  # the patent number, not the row id


class FigureText(models.Model):
    """A text about a figure: an LLM-written description, or a generated caption."""

    class Kind(models.TextChoices):
        DESCRIPTION = "description", "LLM description"
        GENERATED_CAPTION = "generated_caption", "Generated caption"

    figure = models.ForeignKey(Figure, on_delete=models.CASCADE, related_name="texts")
    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.DESCRIPTION)
    text = models.TextField()
    source = models.CharField(max_length=200, blank=True, help_text="Backend and model, or 'import'.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["figure_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["figure", "kind", "text"], name="figuretext_unique"),
        ]

    def __str__(self) -> str:
        return self.text[:80]


class RetrievalModel(models.Model):
    """A registered encoder version: what turns figures and queries into vectors.

    Exactly one model is active; search and encoding use it.
    """

    name = models.CharField(max_length=100, unique=True)
    architecture = models.CharField(max_length=100)
    dim = models.PositiveIntegerField()
    checkpoint = models.CharField(max_length=1000, help_text="Checkpoint folder or open_clip hub name.")
    version = models.CharField(max_length=200, help_text="Architecture and weights digest.")
    is_active = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "model"
        ordering = ["-is_active", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="one_active_model"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({'active' if self.is_active else 'inactive'})"


class FigureEmbedding(models.Model):
    """The vector of one figure under one model (unit length; inner product = cosine).

    The figure's filterable attributes are copied here (by retrieval.index), so that a filtered
    search is one index scan over one table, which pgvector's iterative scans can continue
    until k rows pass the filter.
    """

    figure = models.ForeignKey(Figure, on_delete=models.CASCADE, related_name="embeddings")
    model = models.ForeignKey(RetrievalModel, on_delete=models.CASCADE, related_name="embeddings")
    embedding = HalfVectorField()  # retrieval.index.STORAGE
    corpus = models.ForeignKey(Corpus, on_delete=models.CASCADE, related_name="+")
    us_class_main = models.CharField(max_length=16, blank=True)
    locarno_class = models.CharField(max_length=16, blank=True)
    grant_date = models.DateField(null=True, blank=True)
    is_front_page = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["figure", "model"], name="figureembedding_unique"),
        ]
        # A selective filter is counted, and searched exactly, through these (retrieval.index).
        indexes = [
            models.Index(fields=["model", "corpus"], name="figemb_model_corpus"),
            models.Index(fields=["model", "us_class_main"], name="figemb_model_us_class"),
            models.Index(fields=["model", "locarno_class"], name="figemb_model_locarno"),
            models.Index(fields=["model", "grant_date"], name="figemb_model_grant_date"),
        ]

    def __str__(self) -> str:
        return f"{self.figure_id} @ {self.model_id}"


class FigureSearchText(models.Model):
    """The words of one figure as the text channels of search read them (one row per figure).

    ``names`` is the patent's title and object name (matched by trigram overlap, which forgives
    misspellings and split or joined compounds, through :class:`SearchName`, one row per distinct
    ``names``); ``document`` is everything an
    examiner's words may match: title, object name, viewpoint, caption and the LLM descriptions
    (matched by PostgreSQL full-text search on a generated ``tsvector`` column with a GIN
    index, see migration 0004); ``sentence`` is the locked sentence model's vector of those
    texts (the names' and the descriptions' unit vectors weighted and renormalised, see
    retrieval.ml.sentence_composition; ``sentence_version`` names the model and
    that composition). The filter attributes are
    read through the figure, so the text channels obey the same filters as the drawing index.
    Written by retrieval.services.search_text through retrieval.index.
    """

    figure = models.OneToOneField(Figure, on_delete=models.CASCADE, primary_key=True, related_name="search_text")
    names = models.TextField(blank=True)
    document = models.TextField(blank=True)
    sentence = VectorField(dimensions=384, null=True)
    sentence_version = models.CharField(max_length=100, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"text of {self.figure_id}"


class SearchName(models.Model):
    """One distinct ``names`` of the text rows (a title and object name) with its padded word
    trigrams, which the trigram channel scores: once per distinct name rather than once per
    figure (the figures of a patent, and many patents, share one title), and through a GIN index
    on ``trigrams``. Migration 0011 made it (unique on ``md5(names)``: a title may be too long
    for a B-tree entry) and moved the trigrams here from the text rows. Written with the text
    rows by retrieval.index.upsert_search_texts; a name no text row carries any more is deleted
    by the sweep (retrieval.index.prune_search_names).
    """

    names = models.TextField()
    trigrams = ArrayField(models.TextField(), default=list, blank=True)

    def __str__(self) -> str:
        return self.names
