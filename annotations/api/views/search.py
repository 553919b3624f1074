"""``GET /api/v1/projects/{slug}/search/?q=``: groups, hypotheses and comments that match."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from annotations.api.views.base import ProjectView
from annotations.selectors.search import project_search
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


class SearchResultSerializer(serializers.Serializer):
    groups = GroupHitSerializer(many=True)
    hypotheses = HypothesisHitSerializer(many=True)
    comments = CommentHitSerializer(many=True)


class SearchView(ProjectView):
    @extend_schema(
        operation_id="projects_search",
        parameters=[SearchQuerySerializer],
        responses={200: SearchResultSerializer, 400: ERROR, 404: ERROR},
        description="Full-text search (PostgreSQL) or substring search (SQLite) over the "
        "project's groups, hypotheses and comments; at most 20 hits of each, best first.",
    )
    def get(self, request, slug):
        query = SearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        hits = project_search(project=self.project, text=query.validated_data["q"])
        return Response(SearchResultSerializer(hits).data)
