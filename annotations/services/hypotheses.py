"""Writing, revising and withdrawing hypotheses (reviews and acceptance: ``reviews.py``).

A hypothesis records, for each of its units, the group the unit had when the hypothesis was
written or last revised; acceptance applies the proposal only if no unit moved since. A
revision makes a new version, so reviews of earlier versions (approvals included) no longer
count.
"""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from annotations.colors import is_color
from annotations.models import (
    Assignment,
    Circuit,
    CircuitNode,
    Group,
    Hypothesis,
    HypothesisUnit,
    Membership,
    Notification,
    ProjectNetwork,
    Webhook,
)
from annotations.policies import authorize, can_in_role
from annotations.services.assignments import MAX_UNITS_PER_REQUEST, units_for_project
from annotations.services.events import event_log
from annotations.services.grid_changes import project_changed
from annotations.services.notifications import notify
from annotations.services.unit_counts import unit_counts_add
from annotations.services.webhooks import hypothesis_data, webhooks_emit
from server.concurrency import stale
from server.errors import InvalidTransition, NotFound, UnknownReference, ValidationFailed
from workers.models import Artifact, Unit

# A revision leaves out what it does not change (None clears a proposal or the group).
UNCHANGED = object()

GROUP_NAME_MAX_LENGTH = Group._meta.get_field("name").max_length
TITLE_MAX_LENGTH = Hypothesis._meta.get_field("title").max_length


def hypothesis_create(
    *,
    project,
    network,
    title,
    text="",
    units=(),
    proposed_group_id=None,
    new_group=None,
    group_id=None,
    evidence=(),
    evidence_circuits=(),
    circuit_id=None,
    actor,
):
    """Write an open hypothesis about ``units`` ("layer:index" addresses of ``network``).

    proposed_group_id: an existing group for all the units; or new_group: ``{"name",
    "parent" (a group id or None), "description", "color" (None: an unused palette colour)}``,
    a group created on acceptance.
    group_id: the group the hypothesis is about. evidence: ids of artifacts of the units
    (or of their layers, or of the units of the circuit it is about); evidence_circuits: ids
    of circuits of the project. circuit_id: the circuit (of ``network``) it is about.
    """
    authorize(actor=actor, action="hypothesis.create", obj=project)
    if not ProjectNetwork.objects.filter(project=project, network=network).exists():
        raise ValidationFailed(
            "This project does not study that network.", fields={"network": ["Unknown."]}
        )
    content, unit_rows = _validated(
        project,
        network,
        {
            "title": title,
            "text": text,
            "units": list(units),
            "proposed_group": proposed_group_id,
            "new_group": new_group,
            "group": group_id,
            "evidence": list(evidence),
            "evidence_circuits": list(evidence_circuits),
            "circuit": circuit_id,
        },
    )
    with transaction.atomic():
        hypothesis = Hypothesis.objects.create(
            project=project, network=network, author=actor, **_stored(content)
        )
        _record_units(hypothesis, unit_rows)
        event_log(
            hypothesis,
            "hypothesis.created",
            actor=actor,
            project=project,
            after={**content, "status": hypothesis.status, "version": hypothesis.version},
        )
        project_changed(project_id=project.pk)
        _ask_for_reviews(hypothesis, actor=actor, asks="asks for your review of")
        webhooks_emit(
            project=project,
            event_type=Webhook.EventType.HYPOTHESIS_OPENED,
            data=lambda: {"hypothesis": hypothesis_data(hypothesis)},
        )
    return hypothesis


def hypothesis_revise(
    *,
    hypothesis,
    expected_version,
    actor,
    title=UNCHANGED,
    text=UNCHANGED,
    units=UNCHANGED,
    proposed_group_id=UNCHANGED,
    new_group=UNCHANGED,
    group_id=UNCHANGED,
    evidence=UNCHANGED,
    evidence_circuits=UNCHANGED,
    circuit_id=UNCHANGED,
):
    """Change an open hypothesis (its author only). The units' current groups become the
    expected ones again, and the new version needs fresh approvals. ``evidence`` and
    ``evidence_circuits``, when given, replace the evidence; the event records both sets."""
    authorize(actor=actor, action="hypothesis.update", obj=hypothesis)
    _require_open(hypothesis, expected_version, "revised")
    before = _content_of(hypothesis)
    given = {
        "title": title,
        "text": text,
        "units": units,
        "proposed_group": proposed_group_id,
        "new_group": new_group,
        "group": group_id,
        "evidence": evidence,
        "evidence_circuits": evidence_circuits,
        "circuit": circuit_id,
    }
    wanted = {**before, **{key: value for key, value in given.items() if value is not UNCHANGED}}
    after, unit_rows = _validated(hypothesis.project, hypothesis.network, wanted)
    with transaction.atomic():
        updated = Hypothesis.objects.filter(
            pk=hypothesis.pk, status=Hypothesis.Status.OPEN, version=expected_version
        ).update(**_stored(after), version=F("version") + 1, updated_at=timezone.now())
        if not updated:
            raise refusal(hypothesis, "revised", expected_version=expected_version)
        open_units_uncount(hypothesis)
        HypothesisUnit.objects.filter(hypothesis=hypothesis).delete()
        _record_units(hypothesis, unit_rows)
        hypothesis.refresh_from_db()
        changed = [key for key in after if before[key] != after[key]]
        event_log(
            hypothesis,
            "hypothesis.revised",
            actor=actor,
            before={**{key: before[key] for key in changed}, "version": expected_version},
            after={**{key: after[key] for key in changed}, "version": hypothesis.version},
        )
        project_changed(project_id=hypothesis.project_id)
        _ask_for_reviews(hypothesis, actor=actor, asks="revised; it needs your review again:")
    return hypothesis


def _ask_for_reviews(hypothesis, *, actor, asks):
    """A review request to every member who may review ``hypothesis`` (owners and reviewers,
    never its author): in their notifications, and by e-mail where they chose it."""
    members = Membership.objects.filter(project_id=hypothesis.project_id).select_related("user")
    reviewers = [
        m.user for m in members if can_in_role(m.user, "hypothesis.review", hypothesis, role=m.role)
    ]
    by = actor.username if actor is not None else "Someone"
    notify(
        project=hypothesis.project,
        recipients=reviewers,
        kind=Notification.Kind.REVIEW_REQUEST,
        actor=actor,
        target_type="hypothesis",
        target_id=hypothesis.pk,
        text=f"{by} {asks} hypothesis #{hypothesis.pk}: {hypothesis.title}",
    )


def hypothesis_withdraw(*, hypothesis, expected_version, actor):
    """The author takes back an open hypothesis; it can no longer be reviewed or revised."""
    authorize(actor=actor, action="hypothesis.withdraw", obj=hypothesis)
    with transaction.atomic():
        updated = Hypothesis.objects.filter(
            pk=hypothesis.pk, status=Hypothesis.Status.OPEN, version=expected_version
        ).update(status=Hypothesis.Status.WITHDRAWN, updated_at=timezone.now())
        if not updated:
            raise refusal(hypothesis, "withdrawn", expected_version=expected_version)
        open_units_uncount(hypothesis)
        event_log(
            hypothesis,
            "hypothesis.withdrawn",
            actor=actor,
            before={"status": Hypothesis.Status.OPEN},
            after={"status": Hypothesis.Status.WITHDRAWN},
        )
        project_changed(project_id=hypothesis.project_id)
    hypothesis.refresh_from_db()
    return hypothesis


def _require_open(hypothesis, expected_version, what):
    """The loaded ``hypothesis`` must be open and the version the client read, since what a
    revision leaves out is taken from it (the conditional UPDATE then checks nobody changed
    it since)."""
    if hypothesis.status == Hypothesis.Status.OPEN and hypothesis.version == expected_version:
        return
    try:
        hypothesis.refresh_from_db()
    except Hypothesis.DoesNotExist as error:
        raise NotFound("Hypothesis not found.") from error
    if hypothesis.status != Hypothesis.Status.OPEN or hypothesis.version != expected_version:
        raise refusal(hypothesis, what, expected_version=expected_version)


def refusal(hypothesis, what, *, expected_version):
    """Why a conditional update of an open ``hypothesis`` at ``expected_version`` matched no
    row: it is gone (404), no longer open (409 ``invalid_transition``) or was revised (412)."""
    row = Hypothesis.objects.filter(pk=hypothesis.pk).values("status", "version").first()
    if row is None:
        return NotFound("Hypothesis not found.")
    if row["status"] != Hypothesis.Status.OPEN:
        return InvalidTransition(
            f"This hypothesis is {row['status']}; only an open hypothesis can be {what}.",
            fields={"status": [row["status"]]},
        )
    return stale("hypothesis", row["version"])


def _validated(project, network, content):
    """``content`` checked as a whole and normalized, and its units; ValidationFailed names
    every problem by field."""
    problems = {}
    title = str(content["title"]).strip()
    if not title:
        problems["title"] = ["This field cannot be blank."]
    elif len(title) > TITLE_MAX_LENGTH:
        problems["title"] = [f"At most {TITLE_MAX_LENGTH} characters."]
    new_group = content["new_group"]
    wanted_groups = {content["proposed_group"], content["group"]}
    if new_group is not None:
        new_group = _normalized_new_group(new_group)
        wanted_groups.add(new_group["parent"])
    groups = Group.objects.filter(project=project, pk__in=wanted_groups - {None}).select_related(
        "layer"
    )
    groups = {group.pk: group for group in groups}
    for field, group_id in (
        ("proposed_group", content["proposed_group"]),
        ("group", content["group"]),
    ):
        if group_id is not None and group_id not in groups:
            problems[field] = [f"No group {group_id} in this project."]
    if new_group is not None:
        if group_problems := _new_group_problems(new_group, groups):
            problems["new_group"] = group_problems
        if content["proposed_group"] is not None:
            problems["new_group"] = ["Propose an existing group or a new one, not both."]
    addresses = list(content["units"])
    if len(addresses) > MAX_UNITS_PER_REQUEST:
        problems["units"] = [f"At most {MAX_UNITS_PER_REQUEST} units."]
    elif len(set(addresses)) != len(addresses):
        problems["units"] = ["A unit is listed twice."]
    elif not addresses and (content["proposed_group"] is not None or new_group is not None):
        problems["units"] = ["A proposed group needs units to put in it."]
    evidence = list(dict.fromkeys(content["evidence"]))
    if unknown := _unknown_artifacts(project, evidence):
        problems["evidence"] = [
            f"No artifact {artifact_id} in this project." for artifact_id in unknown
        ]
    evidence_circuits = list(dict.fromkeys(content["evidence_circuits"]))
    known_circuits = set(
        Circuit.objects.filter(
            project=project, network=network, pk__in=evidence_circuits
        ).values_list("pk", flat=True)
    )
    if unknown := [pk for pk in evidence_circuits if pk not in known_circuits]:
        problems["evidence_circuits"] = [
            f"No circuit {pk} of this network in this project." for pk in unknown
        ]
    circuit_id = content.get("circuit")
    if (
        circuit_id is not None
        and not Circuit.objects.filter(project=project, network=network, pk=circuit_id).exists()
    ):
        problems["circuit"] = [f"No circuit {circuit_id} of this network in this project."]
    if problems:
        # The input serializer has checked each field's shape; what is left here is what the
        # schema cannot state (references to nothing, units listed twice, a group proposed
        # without units or twice over): 422. A title problem is the request's shape: 400.
        beyond_the_schema = {
            "proposed_group",
            "group",
            "evidence",
            "evidence_circuits",
            "circuit",
            "units",
            "new_group",
        }
        error = UnknownReference if problems.keys() <= beyond_the_schema else ValidationFailed
        raise error("The hypothesis has invalid fields.", fields=problems)
    unit_rows = sorted(
        units_for_project(project=project, network=network, addresses=addresses),
        key=lambda unit: (unit.layer.order, unit.index),
    )
    _check_layer_scope(groups.get(content["proposed_group"]), unit_rows)
    _check_evidence(project, evidence, unit_rows, circuit_id)
    normalized = {
        **content,
        "title": title,
        "units": [str(unit.address) for unit in unit_rows],
        "new_group": new_group,
        "evidence": evidence,
        "evidence_circuits": evidence_circuits,
    }
    return normalized, unit_rows


def _normalized_new_group(new_group):
    return {
        "name": str(new_group.get("name", "")).strip(),
        "parent": new_group.get("parent"),
        "description": new_group.get("description", ""),
        # None: the group takes an unused palette colour when it is created on acceptance.
        "color": new_group.get("color") or None,
    }


def _new_group_problems(new_group, groups):
    problems = []
    if not new_group["name"]:
        problems.append("The new group needs a name.")
    elif len(new_group["name"]) > GROUP_NAME_MAX_LENGTH:
        problems.append(f"The name has at most {GROUP_NAME_MAX_LENGTH} characters.")
    if new_group["parent"] is not None and new_group["parent"] not in groups:
        problems.append(f"No group {new_group['parent']} in this project.")
    if new_group["color"] is not None and not is_color(new_group["color"]):
        problems.append("The color reads like #1f77b4.")
    return problems


def _unknown_artifacts(project, evidence):
    """The artifacts of ``evidence`` in no network of the project: another project's artifact
    reads as no artifact at all."""
    known = set(
        Artifact.objects.filter(
            pk__in=evidence, network__project_links__project=project
        ).values_list("pk", flat=True)
    )
    return [artifact_id for artifact_id in evidence if artifact_id not in known]


def _check_evidence(project, evidence, unit_rows, circuit_id):
    """Every evidence artifact (of the project, ``_unknown_artifacts`` has checked) is a render
    of one of the hypothesis' units (or of the units of the circuit it is about), or a
    layer-wide render of one of their layers; UnknownReference names each one that is not."""
    if not evidence:
        return
    unit_ids = {unit.pk for unit in unit_rows}
    if circuit_id is not None:
        unit_ids.update(
            CircuitNode.objects.filter(circuit_id=circuit_id).values_list("unit_id", flat=True)
        )
    layer_ids = set(Unit.objects.filter(pk__in=unit_ids).values_list("layer_id", flat=True))
    artifacts = {
        artifact.pk: artifact
        for artifact in Artifact.objects.filter(
            pk__in=evidence, network__project_links__project=project
        ).select_related("layer", "unit")
    }
    problems = []
    for artifact_id in evidence:
        artifact = artifacts[artifact_id]
        if artifact.unit_id is not None and artifact.unit_id not in unit_ids:
            problems.append(
                f"Artifact {artifact_id} is of {artifact.unit.address}, not of this "
                "hypothesis' units."
            )
        elif artifact.unit_id is None and artifact.layer_id not in layer_ids:
            problems.append(
                f"Artifact {artifact_id} is of layer {artifact.layer.name}, where this "
                "hypothesis has no units."
            )
    if problems:
        raise UnknownReference("The hypothesis has invalid fields.", fields={"evidence": problems})


def _check_layer_scope(proposed_group, unit_rows):
    if proposed_group is None or proposed_group.layer_id is None:
        return
    outside = [str(unit.address) for unit in unit_rows if unit.layer_id != proposed_group.layer_id]
    if outside:
        raise ValidationFailed(
            f"{proposed_group.name} is for layer {proposed_group.layer.name} only.",
            fields={"units": [f"{label} is in another layer." for label in outside]},
        )


def _content_of(hypothesis):
    """The stored hypothesis in the shape ``_validated`` takes, for a revision to merge into."""
    units = HypothesisUnit.objects.filter(hypothesis=hypothesis).select_related("unit__layer")
    return {
        "title": hypothesis.title,
        "text": hypothesis.text,
        "units": [str(row.unit.address) for row in units],
        "proposed_group": hypothesis.proposed_group_id,
        "new_group": hypothesis.new_group,
        "group": hypothesis.group_id,
        "evidence": list(hypothesis.evidence),
        "evidence_circuits": list(hypothesis.evidence_circuits),
        "circuit": hypothesis.circuit_id,
    }


def _stored(content):
    """``content`` (as events record it: group ids, unit addresses) as Hypothesis fields."""
    return {
        "title": content["title"],
        "text": content["text"],
        "proposed_group_id": content["proposed_group"],
        "new_group": content["new_group"],
        "group_id": content["group"],
        "evidence": content["evidence"],
        "evidence_circuits": content["evidence_circuits"],
        "circuit_id": content.get("circuit"),
    }


def open_units_uncount(hypothesis):
    """The units of ``hypothesis``, open until now, no longer have it open (it was closed,
    or its units are about to be replaced); called after the conditional update that
    changed it, so only the one writer that won does this."""
    unit_counts_add(
        project_id=hypothesis.project_id,
        unit_ids=HypothesisUnit.objects.filter(hypothesis=hypothesis).values_list(
            "unit_id", flat=True
        ),
        open_hypotheses=-1,
    )


def _record_units(hypothesis, unit_rows):
    """One row per unit, with the unit's accepted group as of now; the hypothesis is open, so
    each unit counts it."""
    current = dict(
        Assignment.objects.filter(
            project_id=hypothesis.project_id, unit_id__in=[unit.pk for unit in unit_rows]
        ).values_list("unit_id", "group_id")
    )
    HypothesisUnit.objects.bulk_create(
        [
            HypothesisUnit(hypothesis=hypothesis, unit=unit, expected_group_id=current.get(unit.pk))
            for unit in unit_rows
        ],
        batch_size=500,
    )
    unit_counts_add(
        project_id=hypothesis.project_id,
        unit_ids=[unit.pk for unit in unit_rows],
        open_hypotheses=1,
    )
