"""Reads about hypotheses: a project's list, one hypothesis with its reviews and evidence,
the review queue, and how many approvals a hypothesis has."""

from types import SimpleNamespace

from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse

from annotations.models import (
    Assignment,
    Circuit,
    Hypothesis,
    HypothesisUnit,
    Membership,
    Review,
)
from annotations.policies import REVIEWERS, can
from server.errors import NotFound, PermissionDenied
from workers.models import Artifact

# An evidence item's kind: its artifact's job kind ("feature_visualization", ...), or these.
EVIDENCE_CIRCUIT = "circuit"
EVIDENCE_MISSING = "missing"


def approvals_count():
    """An annotation: the reviewers whose latest review of the hypothesis' current version
    approves it (a reviewer may change their mind; earlier versions do not count)."""
    later = Review.objects.filter(
        hypothesis=OuterRef("hypothesis"),
        reviewer=OuterRef("reviewer"),
        version=OuterRef("version"),
        pk__gt=OuterRef("pk"),
    )
    approvals = (
        Review.objects.filter(
            ~Exists(later),
            hypothesis=OuterRef("pk"),
            version=OuterRef("version"),
            verdict=Review.Verdict.APPROVE,
        )
        .order_by()
        .values("hypothesis")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(approvals, output_field=IntegerField()), 0)


def hypotheses_for_project(*, project):
    """The project's hypotheses, newest first: filter them, take a page of their ids, and read
    that page with ``hypotheses_listed``."""
    return Hypothesis.objects.filter(project=project).order_by("-created_at", "-id")


def hypothesis_get_for_user(*, user, project, hypothesis_id, action):
    """Hypothesis ``hypothesis_id`` of ``project`` (which the user may see) if ``user`` may do
    ``action`` on it: NotFound when the project has no such hypothesis, PermissionDenied when
    the user's role or authorship rules the action out."""
    hypothesis = (
        Hypothesis.objects.select_related("project", "network")
        .filter(project=project, pk=hypothesis_id)
        .first()
    )
    if hypothesis is None:
        raise NotFound("Hypothesis not found.")
    if not can(user, action, hypothesis):
        raise PermissionDenied(f"You may not do {action} on this hypothesis.")
    return hypothesis


def hypothesis_detail(*, project, hypothesis_id):
    """Hypothesis ``hypothesis_id`` of ``project`` with its reviews, and each of its units
    with ``current_group`` (its group now) and ``moved`` (not the group the hypothesis
    expected)."""
    # Each unit's group now, read with the unit (one query fewer than reading them apart).
    current = Assignment.objects.filter(project=project, unit_id=OuterRef("unit_id"))
    units = HypothesisUnit.objects.select_related("unit__layer", "expected_group").annotate(
        current_group_id=Subquery(current.values("group_id")[:1]),
        current_group_name=Subquery(current.values("group__name")[:1]),
    )
    hypothesis = (
        _listed(
            Hypothesis.objects.filter(project=project, pk=hypothesis_id),
            units=Prefetch("units", queryset=units),
        )
        .prefetch_related(Prefetch("reviews", queryset=Review.objects.select_related("reviewer")))
        .first()
    )
    if hypothesis is None:
        raise NotFound("Hypothesis not found.")
    evidence_attach(hypotheses=[hypothesis])
    for row in hypothesis.units.all():
        row.current_group = (
            None
            if row.current_group_id is None
            else SimpleNamespace(id=row.current_group_id, name=row.current_group_name)
        )
        row.moved = row.current_group_id != row.expected_group_id
    return hypothesis


def evidence_attach(*, hypotheses):
    """Set ``evidence_items`` on each of ``hypotheses``: its evidence artifacts, then its
    evidence circuits, in the order chosen, each a dict with ``kind``, ``artifact``,
    ``circuit`` (and ``circuit_name``), ``unit``, ``layer``, ``variant``, ``content_type``,
    ``url`` and ``caption``. Two queries, whatever the number of hypotheses. An artifact
    deleted since (its job was) stays listed as kind ``missing``."""
    artifact_ids = {pk for hypothesis in hypotheses for pk in hypothesis.evidence}
    circuit_ids = {pk for hypothesis in hypotheses for pk in hypothesis.evidence_circuits}
    artifacts = (
        Artifact.objects.select_related("job", "layer", "unit").in_bulk(artifact_ids)
        if artifact_ids
        else {}
    )
    circuits = Circuit.objects.select_related("project").in_bulk(circuit_ids) if circuit_ids else {}
    for hypothesis in hypotheses:
        hypothesis.evidence_items = [
            _artifact_item(pk, artifacts.get(pk)) for pk in hypothesis.evidence
        ] + [
            _circuit_item(circuits[pk])
            for pk in hypothesis.evidence_circuits
            # A deleted circuit takes its place in the evidence with it.
            if pk in circuits
        ]


def evidence_caption(artifact):
    """What an evidence artifact shows, e.g. "mixed3b:379 · feature visualization
    (positive)"; a layer-wide render names its layer."""
    where = (
        str(artifact.unit.address) if artifact.unit is not None else f"layer {artifact.layer.name}"
    )
    what = artifact.job.get_kind_display()
    return f"{where} · {what} ({artifact.variant})" if artifact.variant else f"{where} · {what}"


def _artifact_item(pk, artifact):
    if artifact is None:
        return {
            **_NO_ITEM,
            "kind": EVIDENCE_MISSING,
            "artifact": pk,
            "caption": f"Artifact {pk} no longer exists (its job was deleted).",
        }
    return {
        **_NO_ITEM,
        "kind": artifact.job.kind,
        "artifact": pk,
        "unit": str(artifact.unit.address) if artifact.unit is not None else None,
        "layer": artifact.layer.name,
        "variant": artifact.variant,
        "content_type": artifact.content_type,
        "url": reverse("workers-api:artifact-download", kwargs={"artifact_id": pk}),
        "caption": evidence_caption(artifact),
    }


def _circuit_item(circuit):
    return {
        **_NO_ITEM,
        "kind": EVIDENCE_CIRCUIT,
        "circuit": circuit.pk,
        "circuit_name": circuit.name,
        "content_type": "image/svg+xml",
        "url": reverse(
            "annotations-api:circuit-diagram",
            kwargs={"slug": circuit.project.slug, "circuit_id": circuit.pk},
        ),
        "caption": f"circuit {circuit.name}",
    }


_NO_ITEM = {
    "artifact": None,
    "circuit": None,
    "circuit_name": None,
    "unit": None,
    "layer": None,
    "variant": "",
    "content_type": None,
    "url": None,
}


def review_queue(*, user, project=None):
    """The open hypotheses ``user`` may review and has not reviewed in their current version
    (``{"pk": id}`` each), oldest first: in ``project``, or in every project where the user
    is an owner or reviewer. Read a page of them with ``hypotheses_listed``."""
    reviewed = Review.objects.filter(
        hypothesis=OuterRef("pk"), version=OuterRef("version"), reviewer=user
    )
    hypotheses = Hypothesis.objects.filter(
        ~Exists(reviewed), status=Hypothesis.Status.OPEN
    ).exclude(author=user)
    if project is not None:
        hypotheses = hypotheses.filter(project=project)
    if not (project is not None and user.is_superuser):
        # The reviewer's role is checked in the same query as the queue is read.
        reviewer_of = Membership.objects.filter(user=user, role__in=REVIEWERS).values("project")
        hypotheses = hypotheses.filter(project__in=reviewer_of)
    return hypotheses.order_by("created_at", "id").values("pk")


# What a listed hypothesis shows, read as values (a page of 100 hypotheses built as model
# instances with their units was ~13,000 objects and most of the request's time).
LISTED_FIELDS = (
    "id",
    "project__slug",
    "project__required_approvals",
    "network__name",
    "title",
    "status",
    "author__username",
    "group_id",
    "group__name",
    "proposed_group_id",
    "proposed_group__name",
    "new_group",
    "evidence",
    "evidence_circuits",
    "circuit_id",
    "circuit__name",
    "version",
    "approvals",
    "created_at",
    "updated_at",
    "accepted_at",
)


def hypotheses_listed(*, ids):
    """The hypotheses ``ids`` ready for a list, in the order of ``ids``: one dict each with
    ``LISTED_FIELDS``, ``units`` (their addresses, "layer:index", in layer order) and
    ``evidence_items`` (see ``evidence_attach``). Three queries, four with evidence circuits.

    A page is chosen by id first because PostgreSQL plans a page query with these joins,
    ORDER BY and LIMIT for far longer than it runs it (24 ms against 1 ms for the benchmark's
    review queue, 12 ms for its hypothesis list); the joins over known ids plan in under 1 ms."""
    ids = list(ids)
    rows = {
        row["id"]: row
        for row in Hypothesis.objects.filter(pk__in=ids)
        .annotate(approvals=approvals_count())
        .values(*LISTED_FIELDS)
    }
    for row in rows.values():
        row["units"] = []
    units = HypothesisUnit.objects.filter(hypothesis_id__in=ids).values_list(
        "hypothesis_id", "unit__layer__name", "unit__index"
    )
    for hypothesis_id, layer, index in units:
        rows[hypothesis_id]["units"].append(f"{layer}:{index}")
    listed = [rows[pk] for pk in ids]
    evidence = [
        SimpleNamespace(evidence=row["evidence"], evidence_circuits=row["evidence_circuits"])
        for row in listed
    ]
    evidence_attach(hypotheses=evidence)
    for row, items in zip(listed, evidence, strict=True):
        row["evidence_items"] = items.evidence_items
    return listed


def member_usernames(*, project):
    """The usernames of ``project``'s members, for marking up @mentions."""
    return set(Membership.objects.filter(project=project).values_list("user__username", flat=True))


def _listed(hypotheses, units=None):
    """Everything a listed hypothesis shows, in a fixed number of queries: its units as
    addresses only, unless ``units`` prefetches more of them."""
    return (
        hypotheses.select_related(
            "project", "network", "author", "group", "proposed_group", "circuit"
        )
        .annotate(approvals=approvals_count())
        .prefetch_related(units or Prefetch("units", queryset=_unit_addresses()))
    )


def _unit_addresses():
    # A page of 50 hypotheses holds hundreds of units: build no more of each than its address.
    return HypothesisUnit.objects.select_related("unit__layer").only(
        "hypothesis_id", "unit__index", "unit__layer__name"
    )
