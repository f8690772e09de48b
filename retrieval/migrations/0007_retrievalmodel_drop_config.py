# RetrievalModel.config was never written nor read anywhere: dropped (issue 10, dead code).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("retrieval", "0006_figure_label"),
    ]

    operations = [
        migrations.RemoveField(model_name="retrievalmodel", name="config"),
    ]
