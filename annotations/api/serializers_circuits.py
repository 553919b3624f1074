"""Input and output serializers of the circuit and universality-link endpoints."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotations.formats.markdown import render_markdown
from annotations.models import Circuit, CircuitEdge, UnitLink
from annotations.services.circuits import DIRECTIONS, MAX_GROW
from server import text_limits
from workers.models import Network

NAME_MAX_LENGTH = Circuit._meta.get_field("name").max_length


class CircuitCreateInputSerializer(serializers.Serializer):
    network = serializers.SlugRelatedField(
        slug_field="name",
        queryset=Network.objects.none(),
        help_text="The name of a network the project studies; the circuit's units are its units.",
    )
    name = serializers.CharField(max_length=NAME_MAX_LENGTH)
    description = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=text_limits.DESCRIPTION,
        help_text="Markdown.",
    )

    def __init__(self, *args, project=None, **kwargs):
        super().__init__(*args, **kwargs)
        if project is not None:
            self.fields["network"].queryset = Network.objects.filter(project_links__project=project)


class CircuitUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=NAME_MAX_LENGTH)
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=text_limits.DESCRIPTION, help_text="Markdown."
    )


class CircuitNodeInputSerializer(serializers.Serializer):
    unit = serializers.CharField(
        max_length=text_limits.ADDRESS,
        help_text='A unit of the circuit\'s network, like "mixed3b:379".',
    )
    role = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=text_limits.NOTE
    )


class CircuitNodeUpdateInputSerializer(serializers.Serializer):
    role = serializers.CharField(allow_blank=True, max_length=text_limits.NOTE)


class CircuitEdgeInputSerializer(serializers.Serializer):
    source = serializers.IntegerField(help_text="A node id of this circuit (the earlier layer).")
    target = serializers.IntegerField(help_text="A node id of this circuit (a later layer).")


class CircuitGrowInputSerializer(serializers.Serializer):
    node = serializers.IntegerField(help_text="The node to grow from.")
    direction = serializers.ChoiceField(
        choices=DIRECTIONS,
        default="inputs",
        help_text="inputs: from the layer before the node; outputs: into the layer after it.",
    )
    k = serializers.IntegerField(min_value=1, max_value=MAX_GROW, default=3)
    threshold = serializers.FloatField(
        min_value=0.0, default=0.0, help_text="The smallest L2 norm of a kernel to add."
    )


@extend_schema_field(OpenApiTypes.STR)
class NodeAddressField(serializers.Field):
    """A node's unit as its address, "layer:index"."""

    def to_representation(self, value):
        return str(value.unit.address)


class CircuitNodeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    unit = NodeAddressField(source="*")
    layer = serializers.CharField(source="unit.layer.name")
    index = serializers.IntegerField(source="unit.index")
    role = serializers.CharField()


class CircuitEdgeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source = serializers.IntegerField(source="source_id", help_text="A node id.")
    target = serializers.IntegerField(source="target_id", help_text="A node id.")
    source_unit = NodeAddressField(source="source")
    target_unit = NodeAddressField(source="target")
    magnitude = serializers.FloatField(help_text="The L2 norm of the kernel.")
    sign = serializers.IntegerField(help_text="The sign of the kernel's sum: 1, -1 or 0.")
    kind = serializers.ChoiceField(choices=CircuitEdge.Kind.choices)
    kernel = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField()),
        help_text="The kernel's rows: the target's response to the source at each offset.",
    )
    origin = serializers.DictField(help_text="The engine function, network weights and layers.")


class CircuitOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    network = serializers.SlugField(source="network.name")
    name = serializers.CharField()
    description = serializers.CharField(help_text="Markdown, as written.")
    version = serializers.IntegerField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    node_count = serializers.IntegerField()
    edge_count = serializers.IntegerField()


class CircuitDetailOutputSerializer(CircuitOutputSerializer):
    description_html = serializers.SerializerMethodField(help_text="Sanitized HTML.")
    nodes = CircuitNodeOutputSerializer(many=True, source="nodes.all")
    edges = CircuitEdgeOutputSerializer(many=True, source="edges.all")

    def get_description_html(self, circuit) -> str:
        return render_markdown(circuit.description)


class LinkUnitInputSerializer(serializers.Serializer):
    """A unit of one of the project's networks, like
    ``{"network": "inceptionv1", "unit": "mixed3b:379"}``."""

    network = serializers.CharField(max_length=text_limits.ADDRESS, help_text="A network name.")
    unit = serializers.CharField(max_length=text_limits.ADDRESS, help_text="layer:index")


class LinkCreateInputSerializer(serializers.Serializer):
    """Two units (``{network, unit}`` each) or two group ids."""

    unit_a = LinkUnitInputSerializer(required=False)
    unit_b = LinkUnitInputSerializer(required=False)
    group_a = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    group_b = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=text_limits.NOTE
    )
    correlation = serializers.FloatField(
        required=False, allow_null=True, default=None, min_value=-1.0, max_value=1.0
    )


class LinkReviewInputSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=("confirm", "reject"))
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=text_limits.NOTE
    )


class LinkUnitOutputSerializer(serializers.Serializer):
    network = serializers.SlugField(source="network.name")
    unit = serializers.SerializerMethodField()

    def get_unit(self, unit) -> str:
        return str(unit.address)


class LinkGroupOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class LinkOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    unit_a = LinkUnitOutputSerializer(allow_null=True)
    unit_b = LinkUnitOutputSerializer(allow_null=True)
    group_a = LinkGroupOutputSerializer(allow_null=True)
    group_b = LinkGroupOutputSerializer(allow_null=True)
    note = serializers.CharField()
    correlation = serializers.FloatField(allow_null=True)
    status = serializers.ChoiceField(choices=UnitLink.Status.choices)
    proposed_by = serializers.CharField(source="proposed_by.username", allow_null=True)
    reviewed_by = serializers.CharField(source="reviewed_by.username", allow_null=True)
    review_note = serializers.CharField()
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    reviewed_at = serializers.DateTimeField(allow_null=True)
