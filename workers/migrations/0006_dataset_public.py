from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("workers", "0005_network_status_and_inspection"),
    ]

    operations = [
        # Datasets registered before scoping are not public: annotations' 0011 gives each to
        # the projects that already used it.
        migrations.AddField(
            model_name="dataset",
            name="public",
            field=models.BooleanField(default=False),
        ),
    ]
