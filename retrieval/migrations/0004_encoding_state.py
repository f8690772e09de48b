from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("retrieval", "0003_figureembedding_filter_attributes")]

    operations = [
        migrations.AddField(
            model_name="figure",
            name="encode_queued_at",
            field=models.DateTimeField(
                blank=True, null=True,
                help_text="When the broker last took this figure's encoding task (empty: never, or "
                "the broker was unreachable). See retrieval.selectors.encoding.",
            ),
        ),
    ]
