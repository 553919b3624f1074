import django_filters
from django.db.models import Q
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.api.serializers_hypotheses import (
    HypothesisCreateInputSerializer,
    HypothesisDetailOutputSerializer,
    HypothesisOutputSerializer,
    HypothesisReviseInputSerializer,
    ReviewInputSerializer,
    hypothesis_list_data,
)
from annotations.api.views.base import ProjectGenericView, ProjectView, conditional_input
from annotations.formats.markdown import may_mention
from annotations.models import Hypothesis
from annotations.selectors.hypotheses import (
    hypotheses_for_project,
    hypotheses_listed,
    hypothesis_detail,
    hypothesis_get_for_user,
    member_usernames,
    review_queue,
)
from annotations.services.hypotheses import (
    hypothesis_create,
    hypothesis_revise,
    hypothesis_withdraw,
)
from annotations.services.reviews import review_submit
from server.concurrency import expected_version, with_etag
from server.filters import IntegerFilter
from server.pagination import CountedPagination, CountedRows
from server.schema import ERROR, if_match_parameter
from server.validators import UNIT_ADDRESS, FullMatchValidator
from workers.addresses import UnitAddress

IF_MATCH = if_match_parameter("hypothesis")
ETAG = OpenApiParameter(
    "ETag",
    location=OpenApiParameter.HEADER,
    response=[200, 201],
    description="The hypothesis' version; send it back as If-Match to revise, withdraw or "
    "review it.",
)
CONDITIONAL_ERRORS = {
    400: ERROR,
    401: ERROR,
    403: ERROR,
    404: ERROR,
    409: ERROR,
    412: ERROR,
    428: ERROR,
}


class HypothesisFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Hypothesis.Status.choices)
    author = django_filters.CharFilter(field_name="author__username", help_text="A username.")
    network = django_filters.CharFilter(field_name="network__name", help_text="A network name.")
    unit = django_filters.CharFilter(
        method="filter_unit",
        strip=False,
        validators=[FullMatchValidator(UNIT_ADDRESS, 'Write a unit as "layer:index".')],
    )
    group = IntegerFilter(
        method="filter_group", help_text="Hypotheses about, or proposing, this group id."
    )

    class Meta:
        model = Hypothesis
        fields = ["status", "author", "network", "unit", "group"]

    @extend_schema_field(
        {
            "type": "string",
            "pattern": UNIT_ADDRESS,
            "description": 'Hypotheses about this unit, like "mixed3b:379".',
        }
    )
    def filter_unit(self, hypotheses, name, value):
        address = UnitAddress.parse(value)
        return hypotheses.filter(
            units__unit__layer__name=address.layer, units__unit__index=address.index
        )

    def filter_group(self, hypotheses, name, value):
        return hypotheses.filter(Q(group_id=value) | Q(proposed_group_id=value))


def _detail_response(project, hypothesis_id, status_code=status.HTTP_200_OK):
    hypothesis = hypothesis_detail(project=project, hypothesis_id=hypothesis_id)
    # Most hypotheses mention nobody and spare the members' query.
    members = member_usernames(project=project) if may_mention(hypothesis.text) else ()
    context = {"members": members}
    data = HypothesisDetailOutputSerializer(hypothesis, context=context).data
    return with_etag(Response(data, status=status_code), hypothesis.version)


def _change_response(
    view, hypothesis_id, *, action, change, body=None, status_code=status.HTTP_200_OK
):
    """Apply ``change`` (a service taking the hypothesis, the If-Match version and the actor)
    to a hypothesis the user may ``action``, with the fields of the ``body`` serializer."""
    hypothesis = hypothesis_get_for_user(
        user=view.request.user, project=view.project, hypothesis_id=hypothesis_id, action=action
    )
    if body is None:
        version, data = expected_version(view.request), {}
    else:
        version, data = conditional_input(view.request, body)
    change(hypothesis=hypothesis, expected_version=version, actor=view.request.user, **data)
    return _detail_response(view.project, hypothesis.pk, status_code)


def _queue_response(request, hypothesis_ids, view):
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(CountedRows(hypothesis_ids), request, view)
    page = hypotheses_listed(ids=[row["pk"] for row in page])
    return paginator.get_paginated_response(hypothesis_list_data(page))


class HypothesisListView(ProjectGenericView):
    pagination_class = CountedPagination
    project_actions = {"POST": "hypothesis.create"}
    filterset_class = HypothesisFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Hypothesis.objects.none()
        return hypotheses_for_project(project=self.project)

    @extend_schema(
        operation_id="projects_hypotheses_list",
        responses={200: HypothesisOutputSerializer(many=True), 400: ERROR, 401: ERROR, 404: ERROR},
        description="The project's hypotheses, newest first.",
    )
    def get(self, request, slug):
        hypotheses = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(CountedRows(hypotheses.values("pk")))
        ids = [row["pk"] for row in page]
        return self.get_paginated_response(hypothesis_list_data(hypotheses_listed(ids=ids)))

    @extend_schema(
        operation_id="projects_hypotheses_create",
        request=HypothesisCreateInputSerializer,
        parameters=[ETAG],
        responses={
            201: HypothesisDetailOutputSerializer,
            400: ERROR,
            401: ERROR,
            403: ERROR,
            404: ERROR,
        },
        description="Write a hypothesis about units of one network, optionally proposing a "
        "group for them (`proposed_group`, or `new_group` to create on acceptance). Each "
        "unit's current group is recorded: acceptance is refused if it changes. Owners, "
        "reviewers and annotators.",
    )
    def post(self, request, slug):
        payload = HypothesisCreateInputSerializer(data=request.data, project=self.project)
        payload.is_valid(raise_exception=True)
        hypothesis = hypothesis_create(
            project=self.project, actor=request.user, **payload.validated_data
        )
        return _detail_response(self.project, hypothesis.pk, status.HTTP_201_CREATED)


class HypothesisDetailView(ProjectView):
    @extend_schema(
        operation_id="projects_hypotheses_retrieve",
        parameters=[ETAG],
        responses={200: HypothesisDetailOutputSerializer, 401: ERROR, 404: ERROR},
        description="One hypothesis with its units (each with the group expected and the "
        "group now), its reviews, and its approvals of the current version against the "
        "project's required approvals.",
    )
    def get(self, request, slug, hypothesis_id):
        return _detail_response(self.project, hypothesis_id)

    @extend_schema(
        operation_id="projects_hypotheses_revise",
        request=HypothesisReviseInputSerializer,
        parameters=[IF_MATCH, ETAG],
        responses={200: HypothesisDetailOutputSerializer, **CONDITIONAL_ERRORS},
        description="Revise an open hypothesis (its author only). The units' current groups "
        "become the expected ones, the version goes up, and reviews of earlier versions, "
        "approvals included, no longer count. A closed hypothesis gives 409 "
        "`invalid_transition`.",
    )
    def patch(self, request, slug, hypothesis_id):
        return _change_response(
            self,
            hypothesis_id,
            action="hypothesis.update",
            change=hypothesis_revise,
            body=HypothesisReviseInputSerializer,
        )


class HypothesisWithdrawView(ProjectView):
    @extend_schema(
        operation_id="projects_hypotheses_withdraw",
        request=None,
        parameters=[IF_MATCH, ETAG],
        responses={200: HypothesisDetailOutputSerializer, **CONDITIONAL_ERRORS},
        description="Withdraw an open hypothesis (its author only).",
    )
    def post(self, request, slug, hypothesis_id):
        return _change_response(
            self, hypothesis_id, action="hypothesis.withdraw", change=hypothesis_withdraw
        )


class HypothesisReviewsView(ProjectView):
    @extend_schema(
        operation_id="projects_hypotheses_review",
        request=ReviewInputSerializer,
        parameters=[IF_MATCH, ETAG],
        responses={201: HypothesisDetailOutputSerializer, **CONDITIONAL_ERRORS},
        description="Review the version of an open hypothesis named by If-Match; the response "
        "is the hypothesis after the review. Owners and reviewers, never the author. `reject` "
        "rejects it; an `approve` that brings the current version's approvals to the "
        "project's `required_approvals` accepts it and applies its proposal. If a unit's group "
        "changed since the hypothesis was written, that gives 409 `assignment_conflict` "
        "naming the units, records nothing and leaves it open.",
    )
    def post(self, request, slug, hypothesis_id):
        return _change_response(
            self,
            hypothesis_id,
            action="hypothesis.review",
            change=review_submit,
            body=ReviewInputSerializer,
            status_code=status.HTTP_201_CREATED,
        )


class ProjectReviewQueueView(ProjectView):
    pagination_class = CountedPagination

    @extend_schema(
        operation_id="projects_review_queue",
        responses={200: HypothesisOutputSerializer(many=True), 401: ERROR, 404: ERROR},
        description="The project's open hypotheses you may review and have not reviewed in "
        "their current version, oldest first (empty unless you are an owner or reviewer).",
    )
    def get(self, request, slug):
        return _queue_response(request, review_queue(user=request.user, project=self.project), self)


class ReviewQueueView(APIView):
    pagination_class = CountedPagination

    @extend_schema(
        operation_id="review_queue",
        responses={200: HypothesisOutputSerializer(many=True), 401: ERROR},
        description="Your review queue across every project where you are an owner or "
        "reviewer, oldest first.",
    )
    def get(self, request):
        return _queue_response(request, review_queue(user=request.user), self)
