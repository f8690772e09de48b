"""A logged search records how many figures within its filters it could not compare yet
(``SearchResult.unsearched``: no vector under the model, while a corpus is being encoded), so the
search page, the API and the search log say later that it was not a complete
search, as the plain search page does at once. Searches logged before have it empty. Adding a
column rewrites no row, so the log's write-once trigger (0002) is not fired."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0005_loggedhit_identical")]

    operations = [
        migrations.AddField(
            model_name="casesearch",
            name="unsearched",
            field=models.PositiveIntegerField(
                blank=True, null=True,
                help_text="Figures within the search's filters that its drawings could not be compared with yet (no "
                "vector under the model: still being encoded); 0: it saw every figure; null: no drawing, or logged "
                "before it was recorded.",
            ),
        ),
    ]
