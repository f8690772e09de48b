"""The trigram channel scores each distinct title-and-object-name once, and the full-text
vectors stay in the text rows' own pages.

- ``retrieval_searchname``: one row per distinct ``names`` of the text rows, with its padded
  word trigrams (moved here from the text rows, with their GIN index) and a unique index on
  ``md5(names)`` (a title may be too long for a B-tree entry). The text rows get a hash index
  on ``names``, through which the channel reaches the figures of each matching name. At 100k
  figures the channel scored every figure whose name shared a probed trigram (8,600 rows for
  "mobile phone case", 65 ms); the figures of a patent, and many patents, share one name.
- ``tsv`` is stored MAIN: kept in the row (compressed if need be) and moved to the TOAST table
  only as a last resort. With the default EXTENDED, rows whose sentence vector and long
  descriptions passed the 2 kB threshold had their ``tsv`` moved out of line (23 % of 100k
  rows), and the full-text channel, which ranks every row its words match, fetched each from
  TOAST. Existing rows keep their layout until rewritten: ``VACUUM FULL
  retrieval_figuresearchtext`` rewrites them at once (docs/operations.md).
"""

import django.contrib.postgres.fields
from django.db import migrations, models

TEXT = "retrieval_figuresearchtext"
NAMES = "retrieval_searchname"

NAMES_FORWARD = [
    f"CREATE UNIQUE INDEX searchname_names_md5 ON {NAMES} (md5(names))",
    f"CREATE INDEX searchname_trigrams_gin ON {NAMES} USING gin (trigrams)",
    f"CREATE INDEX figuresearchtext_names_hash ON {TEXT} USING hash (names)",
    f"INSERT INTO {NAMES} (names, trigrams) SELECT DISTINCT ON (md5(names)) names, trigrams FROM {TEXT} "
    "ORDER BY md5(names)",
]
NAMES_BACKWARD = ["DROP INDEX IF EXISTS figuresearchtext_names_hash"]

TRIGRAMS_FORWARD = ["DROP INDEX IF EXISTS figuresearchtext_trigrams_gin"]
TRIGRAMS_BACKWARD = [
    f"UPDATE {TEXT} s SET trigrams = n.trigrams FROM {NAMES} n WHERE n.names = s.names",
    f"CREATE INDEX figuresearchtext_trigrams_gin ON {TEXT} USING gin (trigrams)",
]


class Migration(migrations.Migration):
    dependencies = [("retrieval", "0010_figure_text_queued_at")]

    operations = [
        migrations.CreateModel(
            name="SearchName",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("names", models.TextField()),
                ("trigrams", django.contrib.postgres.fields.ArrayField(
                    base_field=models.TextField(), blank=True, default=list, size=None)),
            ],
        ),
        migrations.RunSQL(NAMES_FORWARD, NAMES_BACKWARD),
        migrations.RunSQL(TRIGRAMS_FORWARD, TRIGRAMS_BACKWARD),
        migrations.RemoveField(model_name="figuresearchtext", name="trigrams"),
        migrations.RunSQL(
            f"ALTER TABLE {TEXT} ALTER COLUMN tsv SET STORAGE MAIN",
            f"ALTER TABLE {TEXT} ALTER COLUMN tsv SET STORAGE EXTENDED",
        ),
    ]
