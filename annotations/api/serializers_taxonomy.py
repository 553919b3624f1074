"""Input and output shapes of the taxonomy, assignment and history endpoints."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotations.api.serializers import datetime_data
from annotations.colors import COLOR_PATTERN, is_color
from annotations.models import Assignment, Group
from annotations.services.assignments import MAX_UNITS_PER_REQUEST
from server import text_limits
from server.validators import UNIT_ADDRESS, FullMatchValidator
from workers.addresses import UnitAddress

NAME_LENGTH = Group._meta.get_field("name").max_length
SOURCE_HELP = f"How the unit got its group: {', '.join(Assignment.Source.values)}."

# A group's order is a 32-bit column.
ORDER_LIMIT = 2**31 - 1


@extend_schema_field(
    {"type": "string", "pattern": COLOR_PATTERN, "maxLength": 7, "example": "#1f77b4"}
)
class ColorField(serializers.CharField):
    """A colour written ``#rrggbb``, taken as sent (surrounding whitespace is refused)."""

    default_error_messages = {"invalid_color": "Write a color as #rrggbb."}

    def __init__(self, **kwargs):
        super().__init__(trim_whitespace=False, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not is_color(value):
            self.fail("invalid_color")
        return value


class LayerScopeInputSerializer(serializers.Serializer):
    network = serializers.SlugField(max_length=100, help_text="A network the project studies.")
    layer = serializers.CharField(max_length=100, help_text="A layer of that network.")


class LayerScopeOutputSerializer(serializers.Serializer):
    network = serializers.CharField(source="network.name")
    layer = serializers.CharField(source="name")


class GroupCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_LENGTH)
    description = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=text_limits.DESCRIPTION,
        help_text="Markdown.",
    )
    color = ColorField(
        required=False,
        default=None,
        help_text="Without one, the first colour of a ten-colour palette (Tableau 10) that no "
        "group of the project has.",
    )
    order = serializers.IntegerField(
        required=False, default=0, min_value=-ORDER_LIMIT, max_value=ORDER_LIMIT
    )
    parent = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="Parent group id; null: root."
    )
    layer = LayerScopeInputSerializer(
        required=False, allow_null=True, default=None, help_text="Limit the group to one layer."
    )


class GroupUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=NAME_LENGTH)
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=text_limits.DESCRIPTION, help_text="Markdown."
    )
    color = ColorField(required=False)
    order = serializers.IntegerField(required=False, min_value=-ORDER_LIMIT, max_value=ORDER_LIMIT)
    layer = LayerScopeInputSerializer(
        required=False, allow_null=True, help_text="Limit the group to one layer; null lifts it."
    )


class GroupMoveInputSerializer(serializers.Serializer):
    parent = serializers.IntegerField(allow_null=True, help_text="The new parent; null: root.")


class GroupMergeInputSerializer(serializers.Serializer):
    into = serializers.IntegerField(help_text="The group that receives the units and subgroups.")


class GroupOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    color = serializers.CharField()
    order = serializers.IntegerField(min_value=-ORDER_LIMIT, max_value=ORDER_LIMIT)
    parent = serializers.IntegerField(source="parent_id", allow_null=True)
    layer = LayerScopeOutputSerializer(allow_null=True)
    unit_count = serializers.IntegerField(help_text="Units whose accepted group this is.")
    version = serializers.IntegerField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class GroupTreeOutputSerializer(GroupOutputSerializer):
    """A group with its subgroups, nested."""

    total_unit_count = serializers.IntegerField(
        help_text="Units of this group and of every group below it."
    )

    def get_fields(self):
        fields = super().get_fields()
        fields["children"] = GroupTreeOutputSerializer(many=True, source="tree_children")
        return fields


class GroupUnitOutputSerializer(serializers.Serializer):
    unit_id = serializers.IntegerField()
    network = serializers.CharField(source="unit.network.name")
    address = serializers.SerializerMethodField()
    note = serializers.CharField()
    source = serializers.CharField(help_text=SOURCE_HELP)
    hypothesis = serializers.IntegerField(source="hypothesis_id", allow_null=True)
    assigned_by = serializers.CharField(source="assigned_by.username", allow_null=True)
    assigned_at = serializers.DateTimeField()

    def get_address(self, assignment) -> str:
        return str(assignment.unit.address)


def group_data(row):
    """What ``GroupOutputSerializer`` gives, from a row of ``selectors.taxonomy.groups_listed``
    (plain values, no model instances). The serializer stays the schema; tests check the two
    agree."""
    return {
        "id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "color": row["color"],
        "order": row["order"],
        "parent": row["parent_id"],
        "layer": None
        if row["layer_id"] is None
        else {"network": row["layer__network__name"], "layer": row["layer__name"]},
        "unit_count": row["unit_count"],
        "version": row["version"],
        "created_by": row["created_by__username"],
        "created_at": datetime_data(row["created_at"]),
        "updated_at": datetime_data(row["updated_at"]),
    }


def group_tree_data(roots):
    """What ``GroupTreeOutputSerializer(many=True)`` gives, from ``selectors.taxonomy.groups_tree``;
    built bottom up without recursion, as the tree's totals are."""
    order, pending = [], list(roots)
    while pending:
        node = pending.pop()
        order.append(node)
        pending.extend(node["tree_children"])
    built = {}
    for node in reversed(order):
        built[node["id"]] = {
            **group_data(node),
            "total_unit_count": node["total_unit_count"],
            "children": [built[child["id"]] for child in node["tree_children"]],
        }
    return [built[root["id"]] for root in roots]


def group_unit_data(row):
    """What ``GroupUnitOutputSerializer`` gives, from a row of ``selectors.taxonomy.group_units``
    (plain values); tests check the two agree."""
    return {
        "unit_id": row["unit_id"],
        "network": row["unit__network__name"],
        "address": str(UnitAddress(row["unit__layer__name"], row["unit__index"])),
        "note": row["note"],
        "source": row["source"],
        "hypothesis": row["hypothesis_id"],
        "assigned_by": row["assigned_by__username"],
        "assigned_at": datetime_data(row["assigned_at"]),
    }


class UnitGroupInputSerializer(serializers.Serializer):
    group = serializers.IntegerField(allow_null=True, help_text="A group id; null: no group.")
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=text_limits.NOTE
    )


class UnitGroupOutputSerializer(serializers.Serializer):
    """A unit's accepted group in the project; the assignment fields are null without one."""

    network = serializers.CharField()
    address = serializers.CharField()
    unit_id = serializers.IntegerField()
    group = serializers.IntegerField(source="assignment.group_id", allow_null=True)
    note = serializers.CharField(source="assignment.note", allow_null=True)
    source = serializers.CharField(
        source="assignment.source", allow_null=True, help_text=SOURCE_HELP
    )
    hypothesis = serializers.IntegerField(source="assignment.hypothesis_id", allow_null=True)
    assigned_by = serializers.CharField(source="assignment.assigned_by.username", allow_null=True)
    assigned_at = serializers.DateTimeField(source="assignment.assigned_at", allow_null=True)


class AssignmentsInputSerializer(serializers.Serializer):
    network = serializers.SlugField(max_length=100, help_text="A network the project studies.")
    units = serializers.ListField(
        # Untrimmed: the pattern is checked on the address as sent (str.strip would also eat
        # control characters such as \x1c that the pattern lets through).
        child=serializers.CharField(
            max_length=text_limits.ADDRESS,
            trim_whitespace=False,
            validators=[FullMatchValidator(UNIT_ADDRESS, 'Write a unit as "layer:index".')],
        ),
        min_length=1,
        max_length=MAX_UNITS_PER_REQUEST,
        help_text="Unit addresses like 'mixed3b:379'.",
    )
    group = serializers.IntegerField(allow_null=True, help_text="A group id; null: no group.")
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=text_limits.NOTE
    )


class AssignmentsOutputSerializer(serializers.Serializer):
    units = serializers.IntegerField(help_text="Units in the request.")
    changed = serializers.IntegerField(help_text="Units whose group changed (one event each).")


class EventOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    verb = serializers.CharField(help_text='"<object>.<what happened>", e.g. "group.renamed".')
    actor = serializers.CharField(source="actor.username", allow_null=True)
    target_type = serializers.CharField()
    target_id = serializers.IntegerField()
    target_label = serializers.CharField(help_text="How the target read at the time.")
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    created_at = serializers.DateTimeField()
