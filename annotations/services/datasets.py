"""Bringing a dataset into a project: register the folder and link it, all or nothing."""

from django.db import transaction

from annotations.models import ProjectDataset
from annotations.policies import authorize
from workers.services.datasets import dataset_register


def project_dataset_register(*, project, actor, **dataset_fields):
    """Register a dataset (see ``workers.services.datasets.dataset_register`` for the fields)
    that only the members of ``project`` may see and use."""
    authorize(actor=actor, action="network.register", obj=project)
    with transaction.atomic():
        dataset = dataset_register(actor=actor, **dataset_fields)
        ProjectDataset.objects.create(project=project, dataset=dataset, added_by=actor)
    return dataset
