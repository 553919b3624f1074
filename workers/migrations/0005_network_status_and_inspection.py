import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("workers", "0004_job_transient_retries"),
    ]

    operations = [
        # Networks registered before inspections were jobs have their layers: ready.
        migrations.AddField(
            model_name="network",
            name="status",
            field=models.CharField(
                choices=[("inspecting", "Inspecting"), ("ready", "Ready"), ("failed", "Failed")],
                default="ready",
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="job",
            name="layer",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="jobs",
                to="workers.layer",
            ),
        ),
        migrations.AlterField(
            model_name="job",
            name="kind",
            field=models.CharField(
                choices=[
                    ("first_layer_weights", "first-layer weights as RGB images"),
                    ("feature_visualization", "feature visualization"),
                    ("dataset_examples", "dataset examples"),
                    ("weights", "weights from the previous layer"),
                    ("universality", "correlation with another layer's units"),
                    ("inspect_network", "inspection of a newly registered network"),
                ],
                max_length=40,
            ),
        ),
    ]
