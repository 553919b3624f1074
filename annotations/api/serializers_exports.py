"""Input and output shapes of the export, import and release endpoints."""

from datetime import datetime

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotations.models import Release
from annotations.services.releases import NAME as RELEASE_NAME
from server import text_limits
from server.fields import UploadField
from server.validators import FullMatchValidator

RELEASE_NAME_LENGTH = Release._meta.get_field("name").max_length
IMPORT_FORMATS = ["json", "csv"]


# Writes the field declared as ``from_`` under the key ``from``, a Python keyword. (A comment,
# not a docstring: the OpenAPI schema would take it as every serializer's description.)
class FromFieldMixin:
    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class ExportQuerySerializer(serializers.Serializer):
    # Empty means not named (as DRF reads an empty query value), so the pattern lets it be.
    network = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=100,
        validators=[FullMatchValidator(r"^[-a-zA-Z0-9_]*$", "A network name (a slug).")],
        help_text="The network to export; needed only when the project studies several.",
    )
    comments = serializers.BooleanField(
        required=False, default=False, help_text="JSON only: add the comments."
    )


class _ImportSettingsSerializer(serializers.Serializer):
    network = serializers.SlugField(max_length=100, help_text="A network the project studies.")
    format = serializers.ChoiceField(
        choices=IMPORT_FORMATS,
        help_text="`json`: the JSON export; `csv`: the CSV export or the simple CSV "
        "`layer,unit,group,parent_group,description`.",
    )
    dry_run = serializers.BooleanField(
        required=False, default=False, help_text="Report what would change; change nothing."
    )


class ImportInputSerializer(_ImportSettingsSerializer):
    """An import sending the file's text (JSON, form or multipart bodies)."""

    content = serializers.CharField(
        trim_whitespace=False,
        error_messages={"required": "The file's text (in a multipart form, the file as `file`)."},
        help_text="The file's text.",
    )


class ImportUploadInputSerializer(_ImportSettingsSerializer):
    """A multipart import: the file as `file`, or its text as `content` (exactly one)."""

    file = UploadField(required=False, help_text="The file.")
    content = serializers.CharField(
        required=False, trim_whitespace=False, help_text="The file's text, instead of `file`."
    )


class GroupFieldsOutputSerializer(serializers.Serializer):
    group = serializers.CharField(help_text="The group's path.")
    fields = serializers.ListField(child=serializers.CharField())


class UnitChangeOutputSerializer(FromFieldMixin, serializers.Serializer):
    unit = serializers.CharField(help_text="layer:index")
    from_ = serializers.CharField(allow_null=True, help_text="A group path; null: no group.")
    to = serializers.CharField(allow_null=True, help_text="A group path; null: no group.")


class ImportReportOutputSerializer(serializers.Serializer):
    network = serializers.CharField()
    format = serializers.ChoiceField(choices=["json", "csv", "simple_csv"])
    dry_run = serializers.BooleanField()
    changed = serializers.BooleanField(help_text="Whether anything changed (or would).")
    groups_created = serializers.ListField(child=serializers.CharField())
    groups_updated = GroupFieldsOutputSerializer(many=True)
    units_assigned = serializers.IntegerField(help_text="Units that had no group.")
    units_moved = serializers.IntegerField(help_text="Units that changed group.")
    units_unassigned = serializers.IntegerField()
    units_unchanged = serializers.IntegerField()
    unit_changes = UnitChangeOutputSerializer(many=True, help_text="The first 1000 changes.")
    unit_changes_truncated = serializers.BooleanField()
    hypotheses_created = serializers.IntegerField()
    hypotheses_unchanged = serializers.IntegerField()
    evidence_dropped = serializers.ListField(
        child=serializers.CharField(),
        help_text="One line per created hypothesis whose evidence names artifacts or circuits "
        "this server does not have; they are left out.",
    )
    circuits_created = serializers.IntegerField()
    circuits_unchanged = serializers.IntegerField(help_text="Circuits the project had by name.")
    links_created = serializers.IntegerField(help_text="Confirmed universality links added.")
    links_skipped = serializers.IntegerField(
        help_text="Links already there, or with a side this project does not have."
    )
    event = serializers.IntegerField(
        allow_null=True, help_text="The `taxonomy.imported` event; null for a dry run."
    )


class ReleaseCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(
        max_length=RELEASE_NAME_LENGTH,
        trim_whitespace=False,
        validators=[FullMatchValidator(RELEASE_NAME.pattern, "Not a release name.")],
        help_text="Like v1 or 2026-11.1: letters, digits, '.', '_' or '-'.",
    )
    notes = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=text_limits.DESCRIPTION,
        help_text="Markdown.",
    )


class ReleaseRoundOutputSerializer(serializers.Serializer):
    """A closed labelling round as the release froze it: what was labelled and its headline
    agreement (the matrices and per-group kappas are in the release's JSON export)."""

    network = serializers.CharField()
    title = serializers.CharField()
    layer = serializers.CharField(allow_null=True)
    units = serializers.IntegerField()
    annotators = serializers.ListField(child=serializers.CharField())
    closed_at = serializers.DateTimeField()
    percent_agreement = serializers.FloatField(
        source="agreement.percent_agreement", allow_null=True
    )
    cohen_kappa = serializers.FloatField(source="agreement.cohen_kappa", allow_null=True)
    fleiss_kappa = serializers.FloatField(source="agreement.fleiss_kappa", allow_null=True)
    krippendorff_alpha = serializers.FloatField(
        source="agreement.krippendorff_alpha", allow_null=True
    )


class ReleaseOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    notes = serializers.CharField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True)
    created_at = serializers.DateTimeField()
    group_count = serializers.IntegerField()
    unit_count = serializers.IntegerField()
    rounds = serializers.SerializerMethodField(
        help_text="The labelling rounds closed when the release was made, oldest first per "
        "network, with their agreement."
    )

    @extend_schema_field(ReleaseRoundOutputSerializer(many=True))
    def get_rounds(self, release):
        return ReleaseRoundOutputSerializer(
            [
                # The release stored the time as text; as a datetime it reads like every
                # other time of the API.
                {
                    "network": network,
                    **document,
                    "closed_at": datetime.fromisoformat(document["closed_at"]),
                }
                for network, documents in sorted(release.rounds.items())
                for document in documents
            ],
            many=True,
        ).data


class DiffGroupOutputSerializer(serializers.Serializer):
    key = serializers.IntegerField(help_text="The group's id: it survives renames and moves.")
    name = serializers.CharField()
    path = serializers.CharField()


class DiffRenameOutputSerializer(FromFieldMixin, serializers.Serializer):
    key = serializers.IntegerField()
    from_ = serializers.CharField()
    to = serializers.CharField()


class DiffMoveOutputSerializer(FromFieldMixin, serializers.Serializer):
    key = serializers.IntegerField()
    name = serializers.CharField()
    from_ = serializers.CharField(allow_null=True, help_text="The old parent's path; null: root.")
    to = serializers.CharField(allow_null=True, help_text="The new parent's path; null: root.")


class DiffChangeOutputSerializer(serializers.Serializer):
    key = serializers.IntegerField()
    name = serializers.CharField()
    fields = serializers.ListField(child=serializers.CharField())


class DiffGroupsOutputSerializer(serializers.Serializer):
    added = DiffGroupOutputSerializer(many=True)
    removed = DiffGroupOutputSerializer(many=True)
    renamed = DiffRenameOutputSerializer(many=True)
    moved = DiffMoveOutputSerializer(many=True)
    changed = DiffChangeOutputSerializer(many=True)


class DiffUnitOutputSerializer(FromFieldMixin, serializers.Serializer):
    network = serializers.CharField()
    unit = serializers.CharField(help_text="layer:index")
    from_ = DiffGroupOutputSerializer(allow_null=True, help_text="Null: in no group.")
    to = DiffGroupOutputSerializer(allow_null=True)


class DiffCircuitOutputSerializer(serializers.Serializer):
    network = serializers.CharField()
    name = serializers.CharField()


class DiffCircuitChangeOutputSerializer(DiffCircuitOutputSerializer):
    fields = serializers.ListField(
        child=serializers.ChoiceField(choices=["description", "nodes", "edges"])
    )


class DiffCircuitsOutputSerializer(serializers.Serializer):
    added = DiffCircuitOutputSerializer(many=True)
    removed = DiffCircuitOutputSerializer(many=True)
    changed = DiffCircuitChangeOutputSerializer(many=True)


class ReleaseDiffOutputSerializer(FromFieldMixin, serializers.Serializer):
    from_ = serializers.CharField(help_text="The older release.")
    to = serializers.CharField(help_text="The newer release.")
    groups = DiffGroupsOutputSerializer()
    units = DiffUnitOutputSerializer(many=True, help_text="Units whose group differs.")
    circuits = DiffCircuitsOutputSerializer(
        help_text="Circuits by network and name (a renamed one is removed and added)."
    )
