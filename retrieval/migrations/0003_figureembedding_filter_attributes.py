import django.db.models.deletion
from django.db import migrations, models

FILL = """
UPDATE retrieval_figureembedding e
SET corpus_id = f.corpus_id, us_class_main = p.us_class_main, locarno_class = p.locarno_class,
    grant_date = p.grant_date, is_front_page = f.is_front_page
FROM retrieval_figure f JOIN retrieval_patent p ON p.id = f.patent_id
WHERE f.id = e.figure_id
"""


class Migration(migrations.Migration):
    dependencies = [("retrieval", "0002_corpus_patent_figure_model")]

    operations = [
        migrations.AddField(
            model_name="figureembedding", name="corpus",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE,
                                    related_name="+", to="retrieval.corpus"),
        ),
        migrations.AddField(model_name="figureembedding", name="us_class_main",
                            field=models.CharField(blank=True, default="", max_length=16), preserve_default=False),
        migrations.AddField(model_name="figureembedding", name="locarno_class",
                            field=models.CharField(blank=True, default="", max_length=16), preserve_default=False),
        migrations.AddField(model_name="figureembedding", name="grant_date",
                            field=models.DateField(blank=True, null=True)),
        migrations.AddField(model_name="figureembedding", name="is_front_page",
                            field=models.BooleanField(default=False)),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="figureembedding", name="corpus",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                    to="retrieval.corpus"),
        ),
    ]
