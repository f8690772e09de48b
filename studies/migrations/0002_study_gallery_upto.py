"""A study keeps the newest figure id of the moment it was made: its galleries are the figures up
to it, so every participant's candidates are the same whatever is ingested while the study runs.
Studies made before have it empty (their galleries follow the catalogue, as they did)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("studies", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="study",
            name="gallery_upto",
            field=models.BigIntegerField(
                blank=True, null=True,
                help_text="The newest figure id when the study was made: its galleries are the figures up to it, "
                "so every participant's candidates are the same whatever is ingested later (empty: studies made "
                "before).",
            ),
        ),
    ]
