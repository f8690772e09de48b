"""A logged search records the class focus (retrieval.selectors.class_focus): whether it was on
and what it voted. Searches logged before are marked off (``class_focus_on`` false, the value
for the existing rows); new ones default to on, as the search does. Adding columns rewrites no
row, so the log's write-once trigger (0002) is not fired."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_search_log_write_once")]

    operations = [
        migrations.AddField(
            model_name="casesearch",
            name="class_focus_on",
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name="casesearch",
            name="class_focus_on",
            field=models.BooleanField(
                default=True,
                help_text="The class focus ranked the best hits' classes first (searches logged before "
                "it was recorded: false).",
            ),
        ),
        migrations.AddField(
            model_name="casesearch",
            name="class_focus",
            field=models.JSONField(
                blank=True, null=True,
                help_text="What the class focus voted ({weight, patents, classes: [{scheme, label, share}]}); "
                "null: off, or none of the voting patents had a class.",
            ),
        ),
    ]
