"""The text channel of search: per-figure texts with full-text, trigram and sentence indexes.

``tsv`` is a generated column (PostgreSQL keeps it in step with ``document``); its GIN index
serves ``websearch_to_tsquery`` and prefix queries. ``trigrams`` holds the padded word trigrams
of the names (pg_trgm's method, computed by retrieval.index: the embedded PostgreSQL has no
pg_trgm extension, so the built-in GIN array index serves the overlap search everywhere). The
HNSW index serves the sentence vectors (384-d, unit length, inner product).
"""

import django.contrib.postgres.fields
import django.db.models.deletion
import pgvector.django
from django.db import migrations, models

FORWARD = [
    "ALTER TABLE retrieval_figuresearchtext ADD COLUMN tsv tsvector "
    "GENERATED ALWAYS AS (to_tsvector('english', document)) STORED",
    "CREATE INDEX figuresearchtext_tsv_gin ON retrieval_figuresearchtext USING gin (tsv)",
    "CREATE INDEX figuresearchtext_trigrams_gin ON retrieval_figuresearchtext USING gin (trigrams)",
    "CREATE INDEX figuresearchtext_sentence_hnsw ON retrieval_figuresearchtext "
    "USING hnsw (sentence vector_ip_ops) WITH (m = 16, ef_construction = 64)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS figuresearchtext_sentence_hnsw",
    "DROP INDEX IF EXISTS figuresearchtext_trigrams_gin",
    "DROP INDEX IF EXISTS figuresearchtext_tsv_gin",
    "ALTER TABLE retrieval_figuresearchtext DROP COLUMN IF EXISTS tsv",
]


class Migration(migrations.Migration):
    dependencies = [("retrieval", "0003_figureembedding_filter_attributes")]

    operations = [
        migrations.CreateModel(
            name="FigureSearchText",
            fields=[
                ("figure", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True,
                                                related_name="search_text", serialize=False,
                                                to="retrieval.figure")),
                ("names", models.TextField(blank=True)),
                ("trigrams", django.contrib.postgres.fields.ArrayField(
                    base_field=models.TextField(), blank=True, default=list, size=None)),
                ("document", models.TextField(blank=True)),
                ("sentence", pgvector.django.VectorField(dimensions=384, null=True)),
                ("sentence_version", models.CharField(blank=True, max_length=100)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
