"""Input and output serializers of the hypotheses, reviews and review queue endpoints."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotations.api.serializers import datetime_data
from annotations.api.serializers_taxonomy import ColorField
from annotations.formats.markdown import render_markdown
from annotations.models import Hypothesis, Review
from annotations.selectors.hypotheses import EVIDENCE_CIRCUIT, EVIDENCE_MISSING
from annotations.services.hypotheses import (
    GROUP_NAME_MAX_LENGTH,
    TITLE_MAX_LENGTH,
)
from server import text_limits
from workers.models import Job, Network

MAX_EVIDENCE = 100


class NewGroupInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=GROUP_NAME_MAX_LENGTH)
    parent = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="A group id; null: at the root."
    )
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=text_limits.DESCRIPTION
    )
    color = ColorField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Left out or null: on acceptance the group takes a palette colour no group of "
        "the project has yet.",
    )


class HypothesisReviseInputSerializer(serializers.Serializer):
    """Every field optional: what is left out stays as it is."""

    title = serializers.CharField(required=False, max_length=TITLE_MAX_LENGTH)
    text = serializers.CharField(
        required=False, allow_blank=True, max_length=text_limits.BODY, help_text="Markdown."
    )
    units = serializers.ListField(
        child=serializers.CharField(max_length=text_limits.ADDRESS),
        required=False,
        help_text='Unit addresses of the hypothesis\' network, like "mixed3b:379".',
    )
    proposed_group = serializers.IntegerField(
        source="proposed_group_id",
        required=False,
        allow_null=True,
        help_text="An existing group for every unit, applied on acceptance.",
    )
    new_group = NewGroupInputSerializer(
        required=False,
        allow_null=True,
        help_text="A group to create on acceptance and put every unit in "
        "(instead of `proposed_group`).",
    )
    group = serializers.IntegerField(
        source="group_id",
        required=False,
        allow_null=True,
        help_text="The group the hypothesis is about.",
    )
    evidence = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        max_length=MAX_EVIDENCE,
        help_text="Artifact ids: renders of the hypothesis' units (or of their layers, or of "
        "the units of the circuit it is about). Given, it replaces the evidence artifacts.",
    )
    evidence_circuits = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        max_length=MAX_EVIDENCE,
        help_text="Ids of circuits of the project that support the claim. Given, it replaces "
        "the evidence circuits.",
    )
    circuit = serializers.IntegerField(
        source="circuit_id",
        required=False,
        allow_null=True,
        help_text="The circuit (of the same network) the hypothesis is about.",
    )


class HypothesisCreateInputSerializer(HypothesisReviseInputSerializer):
    network = serializers.SlugRelatedField(
        slug_field="name",
        queryset=Network.objects.none(),
        help_text="The name of a network the project studies; the units are its units.",
    )
    title = serializers.CharField(max_length=TITLE_MAX_LENGTH)

    def __init__(self, *args, project=None, **kwargs):
        super().__init__(*args, **kwargs)
        if project is not None:
            self.fields["network"].queryset = Network.objects.filter(project_links__project=project)


class ReviewInputSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=Review.Verdict.choices)
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=text_limits.DESCRIPTION
    )


@extend_schema_field(OpenApiTypes.STR)
class UnitAddressField(serializers.Field):
    """A hypothesis' unit as its address, "layer:index"."""

    def to_representation(self, value):
        return str(value.unit.address)


class GroupRefOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class NewGroupOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    parent = serializers.IntegerField(allow_null=True)
    description = serializers.CharField()
    color = serializers.CharField(
        allow_null=True, help_text="null: a palette colour unused in the project, on acceptance."
    )


class EvidenceItemOutputSerializer(serializers.Serializer):
    kind = serializers.CharField(
        help_text="The artifact's job kind (one of "
        f"{', '.join(Job.Kind.values)}, or a newer one), `{EVIDENCE_CIRCUIT}` for a circuit, or "
        f"`{EVIDENCE_MISSING}` for an artifact deleted since it was attached."
    )
    artifact = serializers.IntegerField(allow_null=True, help_text="The artifact id.")
    circuit = serializers.IntegerField(allow_null=True, help_text="The circuit id.")
    circuit_name = serializers.CharField(allow_null=True)
    unit = serializers.CharField(
        allow_null=True, help_text='The unit the artifact shows ("layer:index"); null: a layer.'
    )
    layer = serializers.CharField(allow_null=True)
    variant = serializers.CharField(help_text='Which picture: "positive", "top", ...')
    content_type = serializers.CharField(allow_null=True)
    url = serializers.CharField(
        allow_null=True,
        help_text="The artifact's download, or the circuit's diagram (SVG); null when missing.",
    )
    caption = serializers.CharField()


class HypothesisOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    project = serializers.SlugField(source="project.slug")
    network = serializers.SlugField(source="network.name")
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=Hypothesis.Status.choices)
    author = serializers.CharField(source="author.username", allow_null=True)
    units = serializers.ListField(child=UnitAddressField(), source="units.all")
    group = GroupRefOutputSerializer(allow_null=True, help_text="What the hypothesis is about.")
    proposed_group = GroupRefOutputSerializer(
        allow_null=True,
        help_text="The group proposed for every unit; once accepted, the group it created.",
    )
    new_group = NewGroupOutputSerializer(
        allow_null=True, help_text="The group proposed to be created on acceptance."
    )
    evidence = serializers.ListField(
        child=serializers.IntegerField(), help_text="Evidence artifact ids."
    )
    evidence_circuits = serializers.ListField(
        child=serializers.IntegerField(), help_text="Evidence circuit ids."
    )
    circuit = GroupRefOutputSerializer(allow_null=True, help_text="The circuit it is about.")
    evidence_items = EvidenceItemOutputSerializer(
        many=True, help_text="The evidence, artifacts first, in the order chosen."
    )
    version = serializers.IntegerField()
    approvals = serializers.IntegerField(
        help_text="Reviewers whose latest review of the current version approves it."
    )
    required_approvals = serializers.IntegerField(source="project.required_approvals")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    accepted_at = serializers.DateTimeField(allow_null=True)


def _group_ref(pk, name):
    return None if pk is None else {"id": pk, "name": name}


def hypothesis_list_data(rows):
    """What ``HypothesisOutputSerializer(many=True)`` gives, from the rows of
    ``selectors.hypotheses.hypotheses_listed`` (plain values, no model instances): a list page
    of 100 hypotheses through the serializer took most of the request's time. The serializer
    stays the response's schema; tests check the two agree."""
    return [
        {
            "id": row["id"],
            "project": row["project__slug"],
            "network": row["network__name"],
            "title": row["title"],
            "status": row["status"],
            "author": row["author__username"],
            "units": row["units"],
            "group": _group_ref(row["group_id"], row["group__name"]),
            "proposed_group": _group_ref(row["proposed_group_id"], row["proposed_group__name"]),
            "new_group": None
            if row["new_group"] is None
            else NewGroupOutputSerializer(row["new_group"]).data,
            "evidence": [int(pk) for pk in row["evidence"]],
            "evidence_circuits": [int(pk) for pk in row["evidence_circuits"]],
            "circuit": _group_ref(row["circuit_id"], row["circuit__name"]),
            "evidence_items": EvidenceItemOutputSerializer(row["evidence_items"], many=True).data
            if row["evidence_items"]
            else [],
            "version": row["version"],
            "approvals": row["approvals"],
            "required_approvals": row["project__required_approvals"],
            "created_at": datetime_data(row["created_at"]),
            "updated_at": datetime_data(row["updated_at"]),
            "accepted_at": datetime_data(row["accepted_at"]),
        }
        for row in rows
    ]


class HypothesisUnitOutputSerializer(serializers.Serializer):
    unit = UnitAddressField(source="*")
    expected_group = GroupRefOutputSerializer(
        allow_null=True, help_text="The unit's group when the hypothesis was written or revised."
    )
    current_group = GroupRefOutputSerializer(allow_null=True, help_text="Its group now.")
    moved = serializers.BooleanField(
        help_text="Its group changed since: accepting would be refused (409)."
    )


class ReviewOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reviewer = serializers.CharField(source="reviewer.username", allow_null=True)
    verdict = serializers.ChoiceField(choices=Review.Verdict.choices)
    comment = serializers.CharField()
    version = serializers.IntegerField(help_text="The hypothesis version reviewed.")
    created_at = serializers.DateTimeField()


class HypothesisDetailOutputSerializer(HypothesisOutputSerializer):
    text = serializers.CharField(help_text="Markdown, as written.")
    text_html = serializers.SerializerMethodField(help_text="The text as sanitized HTML.")
    unit_groups = HypothesisUnitOutputSerializer(many=True, source="units.all")
    reviews = ReviewOutputSerializer(many=True, source="reviews.all")

    def get_text_html(self, hypothesis) -> str:
        return render_markdown(hypothesis.text, members=self.context.get("members", ()))
