"""Reading rendered artifacts: a unit's card and a layer's sprite sheet."""

import json

from server.errors import NotFound, ValidationFailed
from workers import access
from workers.models import Artifact, Job


def unit_card(*, unit):
    """Every rendering of ``unit``: for each job kind and parameter set, the artifacts of the
    most recent job that has any for this unit. Two queries, whatever the number of jobs."""
    artifacts = (
        Artifact.objects.filter(unit=unit)
        .select_related("job", "layer", "unit")
        .order_by("-job__created_at", "-job_id", "kind", "variant")
    )
    renderings = {}
    for artifact in artifacts:
        key = (artifact.job.kind, artifact.job.params_hash)
        rendering = renderings.setdefault(key, {"job": artifact.job, "artifacts": []})
        if rendering["job"].pk == artifact.job_id:
            rendering["artifacts"].append(artifact)
    for rendering in renderings.values():
        # Strongest first: a rendering's "top" images (dataset examples) before the rest.
        rendering["artifacts"].sort(key=lambda a: (a.kind, a.variant != "top", a.variant))
    return sorted(renderings.values(), key=lambda r: (r["job"].kind, -r["job"].pk))


def unit_dataset_evidence(*, renderings):
    """What the dataset-examples renderings of a unit's card (``unit_card``) say about it, per
    dataset, from the newest job on that dataset: ``(fired_on, distributions)``, each a list
    newest job first. ``fired_on``: whether and on how many of the dataset's images the unit
    fired (``never_fired`` when on none); ``distributions``: its activation distribution.
    Both are read from the artifacts' meta: no query and no file."""
    fired_on, distributions, datasets = [], [], set()
    examples = (r for r in renderings if r["job"].kind == Job.Kind.DATASET_EXAMPLES)
    for rendering in sorted(
        examples, key=lambda r: (-r["job"].created_at.timestamp(), -r["job"].pk)
    ):
        job = rendering["job"]
        dataset = job.params.get("dataset")
        if dataset in datasets:
            continue
        datasets.add(dataset)
        for artifact in rendering["artifacts"]:
            if artifact.kind != Artifact.Kind.UNIT_JSON:
                continue
            if artifact.variant == "" and "fired_on" in artifact.meta:
                fired_on.append({**artifact.meta["fired_on"], "job": job.pk})
            elif artifact.variant == "distribution":
                distributions.append(
                    {**artifact.meta, "dataset": dataset, "job": job.pk, "artifact": artifact.pk}
                )
    return fired_on, distributions


def unit_resemblances(*, unit, user):
    """The units of other layers that ``unit`` resembles, best correlation first: the best
    matches of the latest universality job per other layer and dataset, in networks the user
    may see. Two queries."""
    artifacts = (
        Artifact.objects.filter(
            unit=unit,
            kind=Artifact.Kind.UNIT_JSON,
            job__kind=Job.Kind.UNIVERSALITY,
            job__status=Job.Status.SUCCEEDED,
        )
        .select_related("job")
        .order_by("-job__created_at", "-job_id")
    )
    visible = set(access.networks_visible_to(user).values_list("name", flat=True))
    latest = {}
    for artifact in artifacts:
        other = artifact.meta.get("compared_with", {})
        key = (other.get("network"), other.get("layer"), artifact.job.params["dataset"])
        latest.setdefault(key, artifact)
    resembles = [
        {
            **match,
            "dataset": dataset,
            "job": artifact.job_id,
            "text": f"{match['network']} {match['address']}, r = {match['r']:.2f}",
        }
        for (network, _layer, dataset), artifact in latest.items()
        if network in visible
        for match in artifact.meta.get("matches", [])
    ]
    return sorted(resembles, key=lambda match: (-match["r"], match["network"], match["address"]))


def layer_sprite(*, layer, kind, job_id=None):
    """The sprite sheet and its index from the latest job of ``kind`` on ``layer`` that made
    one (or from ``job_id``): returns ``(job, sprite_artifact, index_dict)``."""
    if kind not in Job.Kind.values:
        raise ValidationFailed(
            f"Unknown job kind {kind!r}.", fields={"kind": [f"One of: {', '.join(Job.Kind)}."]}
        )
    sprites = Artifact.objects.filter(
        layer=layer, unit=None, kind=Artifact.Kind.LAYER_SPRITE, job__kind=kind
    ).select_related("job", "layer")
    if job_id is not None:
        sprites = sprites.filter(job_id=job_id)
    sprite = sprites.order_by("-job__created_at", "-job_id").first()
    if sprite is None:
        raise NotFound(
            f"No {kind} sprite sheet for {layer.name} yet; render the layer first.",
            code="not_rendered",
        )
    index_artifact = Artifact.objects.get(
        job=sprite.job,
        layer=sprite.layer,
        unit=None,
        kind=Artifact.Kind.LAYER_INDEX,
        variant=sprite.variant,
    )
    with index_artifact.file.open("rb") as handle:
        index = json.load(handle)
    return sprite.job, sprite, index
