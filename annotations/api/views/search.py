"""``GET /api/v1/projects/{slug}/search/?q=``: groups, hypotheses, comments, units (by the
note of their group assignment) and circuits that match."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from annotations.api.views.base import ProjectView
from annotations.selectors.search import CANDIDATES, project_search
from server.schema import ERROR, NOT_BLANK
from server.validators import FullMatchValidator


class SearchQuerySerializer(serializers.Serializer):
    # Untrimmed, so that the length checked is the length the schema states; not blank.
    q = serializers.CharField(
        min_length=2,
        max_length=200,
        trim_whitespace=False,
        validators=[FullMatchValidator(NOT_BLANK, "Search for something.")],
    )


class GroupRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class GroupHitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()


class HypothesisHitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.CharField()


class CommentHitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    target_type = serializers.CharField()
    target_id = serializers.IntegerField()
    body = serializers.CharField()


class UnitHitSerializer(serializers.Serializer):
    network = serializers.CharField(source="unit.layer.network.name")
    unit = serializers.SerializerMethodField(help_text='Its address, like "mixed3b:379".')
    group = GroupRefSerializer(help_text="The group the note was written with.")
    note = serializers.CharField()

    def get_unit(self, assignment) -> str:
        return str(assignment.unit.address)


class CircuitHitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    network = serializers.CharField(source="network.name")


class SearchResultSerializer(serializers.Serializer):
    groups = GroupHitSerializer(many=True)
    hypotheses = HypothesisHitSerializer(many=True)
    comments = CommentHitSerializer(many=True)
    units = UnitHitSerializer(many=True, help_text="Units whose group assignment's note matches.")
    circuits = CircuitHitSerializer(many=True)


class SearchView(ProjectView):
    @extend_schema(
        operation_id="projects_search",
        parameters=[SearchQuerySerializer],
        responses={200: SearchResultSerializer, 400: ERROR, 404: ERROR},
        description="Full-text search (PostgreSQL: English stemming, websearch syntax) or "
        "substring search (SQLite) over the project's group names and descriptions, hypothesis "
        "titles and claims, comments, unit notes (the note of a unit's group assignment) and "
        "circuit names and descriptions. Of each kind, at most 20 hits: the best ranked of the "
        f"newest {CANDIDATES} matches (PostgreSQL), or the newest matches (SQLite). A word in "
        "most comments therefore finds the best of the recent ones, not of all of them.",
    )
    def get(self, request, slug):
        query = SearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        hits = project_search(project=self.project, text=query.validated_data["q"])
        return Response(SearchResultSerializer(hits).data)
