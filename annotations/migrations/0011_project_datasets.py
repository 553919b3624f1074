import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

DATASET_KINDS = ("dataset_examples", "universality")


def give_datasets_to_the_projects_that_used_them(apps, schema_editor):
    """A dataset registered before datasets had a scope belongs to every project whose
    networks already ran a job over it; one no job used stays for superusers to give."""
    Dataset = apps.get_model("workers", "Dataset")
    ProjectNetwork = apps.get_model("annotations", "ProjectNetwork")
    ProjectDataset = apps.get_model("annotations", "ProjectDataset")
    for dataset in Dataset.objects.all():
        projects = (
            ProjectNetwork.objects.filter(
                network__jobs__kind__in=DATASET_KINDS,
                network__jobs__params__dataset=dataset.name,
            )
            .values_list("project_id", flat=True)
            .distinct()
        )
        ProjectDataset.objects.bulk_create(
            [ProjectDataset(project_id=project, dataset=dataset) for project in projects]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0010_api_tokens"),
        ("workers", "0006_dataset_public"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ProjectDataset",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("added_at", models.DateTimeField(auto_now_add=True)),
                (
                    "added_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "dataset",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="project_links",
                        to="workers.dataset",
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="dataset_links",
                        to="annotations.project",
                    ),
                ),
            ],
            options={
                "ordering": ["project_id", "dataset_id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("project", "dataset"), name="project_dataset_unique_pair"
                    )
                ],
            },
        ),
        migrations.RunPython(
            give_datasets_to_the_projects_that_used_them, migrations.RunPython.noop
        ),
    ]
