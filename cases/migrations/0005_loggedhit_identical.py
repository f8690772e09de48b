"""A logged hit records whether it was the query's own drawing (``FigureHit.identical``: ranked
first for that), so the search page says why later as the plain search does at once. Hits logged
before have it false. Adding a column with a constant default rewrites no row, so the log's
write-once trigger (0002) is not fired."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_casesearch_words_matched")]

    operations = [
        migrations.AddField(
            model_name="loggedhit",
            name="identical",
            field=models.BooleanField(
                default=False,
                help_text="The figure's drawing is one of the query's (ranked first for that: "
                "retrieval.selectors.search.put_identical_first); false for hits logged before it was recorded.",
            ),
        ),
    ]
