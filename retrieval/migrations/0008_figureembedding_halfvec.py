"""Store drawing vectors as pgvector ``halfvec`` (half the bytes; recall unchanged, see
docs/scaling.md). The per-model HNSW indexes are expressions on the column's type, so they are
dropped before the column changes type and built again after it (retrieval.index owns their
definition); on a large catalogue this migration takes as long as building those indexes."""

import pgvector.django
from django.db import migrations

DROP_MODEL_INDEXES = """
DO $$
DECLARE name text;
BEGIN
    FOR name IN SELECT indexname FROM pg_indexes
                WHERE tablename = 'retrieval_figureembedding' AND indexname LIKE 'figemb_hnsw_ip_%'
    LOOP
        EXECUTE format('DROP INDEX IF EXISTS %I', name);
    END LOOP;
END $$;
"""


def drop_model_indexes(apps, schema_editor):
    schema_editor.execute(DROP_MODEL_INDEXES, params=None)


def build_model_indexes(apps, schema_editor):
    from retrieval import index

    for model in apps.get_model("retrieval", "RetrievalModel").objects.all():
        index.build_model_index(model)


def build_float_indexes(apps, schema_editor):
    """Going back: the indexes as they were before halfvec (float vector, m 16, ef_construction 64)."""
    for model in apps.get_model("retrieval", "RetrievalModel").objects.all():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS figemb_hnsw_ip_m{int(model.id)}_d{int(model.dim)} "
            f"ON retrieval_figureembedding USING hnsw ((embedding::vector({int(model.dim)})) vector_ip_ops) "
            f"WITH (m = 16, ef_construction = 64) WHERE model_id = {int(model.id)}"
        )


class Migration(migrations.Migration):
    dependencies = [("retrieval", "0007_retrievalmodel_drop_config")]

    operations = [
        migrations.RunPython(drop_model_indexes, build_float_indexes),
        migrations.AlterField(
            model_name="figureembedding", name="embedding", field=pgvector.django.HalfVectorField(),
        ),
        migrations.RunPython(build_model_indexes, drop_model_indexes),
    ]
