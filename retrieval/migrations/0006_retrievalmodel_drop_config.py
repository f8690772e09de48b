# RetrievalModel.config was never written nor read anywhere: dropped (issue 10, dead code).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("retrieval", "0005_merge_encoding_state_text_channel"),
    ]

    operations = [
        migrations.RemoveField(model_name="retrievalmodel", name="config"),
    ]
