"""Input and output serializers of the labelling round endpoints."""

from rest_framework import serializers

from annotations.models import LabellingRound
from annotations.services.assignments import MAX_UNITS_PER_REQUEST
from annotations.services.rounds import TITLE_MAX_LENGTH
from server import text_limits
from workers.models import Layer, Network

CHOICE_HELP = 'A group id of the round, or null for "other".'


class RoundOpenInputSerializer(serializers.Serializer):
    network = serializers.SlugRelatedField(
        slug_field="name",
        queryset=Network.objects.none(),
        help_text="The name of a network the project studies.",
    )
    layer = serializers.CharField(
        required=False,
        allow_null=True,
        default=None,
        max_length=100,
        help_text="A layer of the network: every unit of it is in the round.",
    )
    units = serializers.ListField(
        child=serializers.CharField(max_length=text_limits.ADDRESS),
        required=False,
        default=list,
        max_length=MAX_UNITS_PER_REQUEST,
        help_text='Or these units of the network ("layer:index"), instead of a layer.',
    )
    title = serializers.CharField(max_length=TITLE_MAX_LENGTH)
    instructions = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=text_limits.DESCRIPTION
    )
    participants = serializers.ListField(
        child=serializers.CharField(max_length=150),
        min_length=2,
        max_length=50,
        help_text="Usernames of two or more members who may annotate (owners, reviewers, "
        "annotators).",
    )
    groups = serializers.ListField(
        child=serializers.IntegerField(),
        min_length=1,
        max_length=200,
        help_text='Ids of the project groups to choose from; "other" is always a choice.',
    )

    def __init__(self, *args, project=None, **kwargs):
        super().__init__(*args, **kwargs)
        if project is not None:
            self.fields["network"].queryset = Network.objects.filter(project_links__project=project)

    def validate(self, data):
        if data["layer"] is not None:
            layer = Layer.objects.filter(network=data["network"], name=data["layer"]).first()
            if layer is None:
                raise serializers.ValidationError({"layer": ["No such layer in the network."]})
            data["layer"] = layer
        return data


class RoundLabelInputSerializer(serializers.Serializer):
    unit = serializers.CharField(max_length=text_limits.ADDRESS, help_text='"layer:index"')
    group = serializers.IntegerField(allow_null=True, help_text=CHOICE_HELP)
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=text_limits.DESCRIPTION
    )


class RoundLabelsInputSerializer(serializers.Serializer):
    labels = RoundLabelInputSerializer(many=True, max_length=MAX_UNITS_PER_REQUEST)


class RoundDecisionInputSerializer(serializers.Serializer):
    unit = serializers.CharField(max_length=text_limits.ADDRESS, help_text='"layer:index"')
    group = serializers.IntegerField(
        allow_null=True, help_text=f"{CHOICE_HELP} (other: the unit keeps its group)."
    )


class RoundChoiceOutputSerializer(serializers.Serializer):
    key = serializers.CharField(help_text='The group id as text, or "other".')
    group = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()


class RoundParticipantOutputSerializer(serializers.Serializer):
    username = serializers.CharField()
    submitted = serializers.BooleanField()
    labelled = serializers.IntegerField(
        allow_null=True,
        help_text="Units labelled so far: shown to owners, reviewers and the participant "
        "themself; null for others.",
    )


class RoundMineOutputSerializer(serializers.Serializer):
    submitted = serializers.BooleanField()
    labelled = serializers.IntegerField()


class CategoryAgreementOutputSerializer(serializers.Serializer):
    category = serializers.CharField(help_text='A group id as text, or "other".')
    name = serializers.CharField()
    labels = serializers.IntegerField(help_text="Labels that chose it.")
    fleiss_kappa = serializers.FloatField(
        allow_null=True,
        help_text="Fleiss' per-category kappa over the units everyone labelled (Fleiss 1971); "
        "null when undefined (nobody or everybody chose it).",
    )


class AgreementOutputSerializer(serializers.Serializer):
    annotators = serializers.ListField(child=serializers.CharField())
    categories = serializers.ListField(child=serializers.CharField())
    units = serializers.IntegerField()
    units_complete = serializers.IntegerField(help_text="Units every participant labelled.")
    units_agreed = serializers.IntegerField()
    units_disagreed = serializers.IntegerField()
    percent_agreement = serializers.FloatField(
        allow_null=True, help_text="Share of units (two labels or more) whose labels all agree."
    )
    cohen_kappa = serializers.FloatField(
        allow_null=True, help_text="Two participants only, over the complete units."
    )
    fleiss_kappa = serializers.FloatField(allow_null=True, help_text="Over the complete units.")
    krippendorff_alpha = serializers.FloatField(
        allow_null=True, help_text="Nominal, every unit with two labels or more."
    )
    confusion_matrix = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        allow_null=True,
        help_text="Two participants: rows the first's choice, columns the second's, in "
        "`categories` order.",
    )
    coincidence_matrix = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField()),
        help_text="Krippendorff's coincidence matrix, category by category.",
    )
    per_category = CategoryAgreementOutputSerializer(many=True)


class RoundOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="round.id")
    title = serializers.CharField(source="round.title")
    instructions = serializers.CharField(source="round.instructions")
    status = serializers.ChoiceField(source="round.status", choices=LabellingRound.Status.choices)
    network = serializers.CharField(source="round.network.name")
    layer = serializers.CharField(source="round.layer.name", allow_null=True)
    created_by = serializers.CharField(source="round.created_by.username", allow_null=True)
    created_at = serializers.DateTimeField(source="round.created_at")
    closed_at = serializers.DateTimeField(source="round.closed_at", allow_null=True)
    units = serializers.ListField(child=serializers.CharField())
    choices = RoundChoiceOutputSerializer(many=True)
    participants = RoundParticipantOutputSerializer(many=True)
    me = RoundMineOutputSerializer(
        allow_null=True, help_text="Your own progress; null when you do not take part."
    )
    agreement = AgreementOutputSerializer(
        allow_null=True, help_text="Once the round is closed; null while it is open."
    )


class RoundListItemOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=LabellingRound.Status.choices)
    network = serializers.CharField(source="network.name")
    layer = serializers.CharField(source="layer.name", allow_null=True)
    units = serializers.IntegerField(source="unit_count")
    participants = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)

    def get_participants(self, labelling_round) -> list[str]:
        return [participant.user.username for participant in labelling_round.participants.all()]


class RoundLabelOutputSerializer(serializers.Serializer):
    unit = serializers.SerializerMethodField()
    group = serializers.IntegerField(source="group_id", allow_null=True, help_text=CHOICE_HELP)
    note = serializers.CharField()
    updated_at = serializers.DateTimeField()

    def get_unit(self, label) -> str:
        return str(label.unit.address)


class RoundAnnotatorLabelOutputSerializer(serializers.Serializer):
    annotator = serializers.CharField()
    choice = serializers.CharField(help_text='A group id as text, or "other".')
    note = serializers.CharField()


class RoundUnitResultOutputSerializer(serializers.Serializer):
    unit = serializers.CharField()
    labels = RoundAnnotatorLabelOutputSerializer(many=True)
    agreed = serializers.BooleanField(help_text="Two labels or more, all the same.")
    decided = serializers.BooleanField()
    decision = serializers.CharField(
        allow_null=True, help_text='The group decided (id as text) or "other"; null: undecided.'
    )


class RoundResultsOutputSerializer(serializers.Serializer):
    agreement = AgreementOutputSerializer()
    units = RoundUnitResultOutputSerializer(many=True)


class RoundAppliedOutputSerializer(serializers.Serializer):
    decided = serializers.IntegerField(help_text="Agreed units recorded as decided.")
    assigned = serializers.IntegerField(help_text="Units whose accepted group changed.")
