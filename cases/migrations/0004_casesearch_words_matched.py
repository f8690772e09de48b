"""A logged search records whether its text's words matched any figure's words
(``SearchResult.words_matched``), so the search page, the API and the search log say so later as
the plain search does at once. Searches logged before have it empty. Adding a column rewrites no
row, so the log's write-once trigger (0002) is not fired."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_casesearch_class_focus")]

    operations = [
        migrations.AddField(
            model_name="casesearch",
            name="words_matched",
            field=models.BooleanField(
                blank=True, null=True,
                help_text="Whether any figure's title, name or descriptions contain the text's words or a near "
                "spelling of them (false: the hits were only neighbours in meaning); null: no text, or logged "
                "before it was recorded.",
            ),
        ),
    ]
