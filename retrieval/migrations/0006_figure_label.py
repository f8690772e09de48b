"""Figure.figure_id -> Figure.figure_label: it is a label such as "1" (FIG. 1), while every other
figure_id of the schema is a key. A plain column rename: no index or constraint uses the column."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("retrieval", "0005_merge_encoding_state_text_channel"),
    ]

    operations = [
        migrations.RenameField(model_name="figure", old_name="figure_id", new_name="figure_label"),
        migrations.AlterField(
            model_name="figure",
            name="figure_label",
            field=models.CharField(
                blank=True, help_text="The figure number (figure_id in metadata.csv), e.g. 1 for FIG. 1.", max_length=64
            ),
        ),
    ]
