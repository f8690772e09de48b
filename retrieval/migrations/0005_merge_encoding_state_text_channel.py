from django.db import migrations


class Migration(migrations.Migration):
    """Joins two migrations written side by side (encoding state, text channel); changes nothing."""

    dependencies = [
        ("retrieval", "0004_encoding_state"),
        ("retrieval", "0004_text_channel"),
    ]

    operations: list = []
