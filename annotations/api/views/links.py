"""Universality links: list and propose, read, confirm or reject; a unit's confirmed links."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from annotations.api.serializers_circuits import (
    LinkCreateInputSerializer,
    LinkOutputSerializer,
    LinkReviewInputSerializer,
)
from annotations.api.views.base import ProjectView, conditional_input
from annotations.models import UnitLink
from annotations.policies import authorize
from annotations.selectors.circuits import (
    link_get,
    links_of,
    unit_for_field,
    unit_get_for_project,
    unit_links,
)
from annotations.selectors.taxonomy import group_for_field
from annotations.services.links import link_propose, link_review
from server.concurrency import with_etag
from server.errors import ValidationFailed
from server.pagination import AtlasPagination
from server.schema import ERROR, if_match_parameter

IF_MATCH = if_match_parameter("link")
ETAG = OpenApiParameter(
    "ETag",
    location=OpenApiParameter.HEADER,
    response=[200, 201],
    description="The link's version; send it back as If-Match to review it.",
)
STATUS = OpenApiParameter(
    "status", str, enum=UnitLink.Status.values, description="Only links with this status."
)
READ_ERRORS = {401: ERROR, 404: ERROR}
WRITE_ERRORS = {400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR}


def _link_response(project, link_id, status_code=status.HTTP_200_OK):
    link = link_get(project=project, link_id=link_id)
    return with_etag(Response(LinkOutputSerializer(link).data, status=status_code), link.version)


class LinkListView(ProjectView):
    project_actions = {"POST": "link.create"}
    pagination_class = AtlasPagination

    @extend_schema(
        operation_id="projects_links_list",
        parameters=[STATUS],
        responses={200: LinkOutputSerializer(many=True), **READ_ERRORS},
        description="The project's universality links, newest first.",
    )
    def get(self, request, slug):
        wanted = request.query_params.get("status") or None
        if wanted is not None and wanted not in UnitLink.Status.values:
            raise ValidationFailed(
                f"No link status {wanted!r}.",
                fields={"status": [f"One of: {', '.join(UnitLink.Status.values)}."]},
            )
        links = links_of(project=self.project, status=wanted)
        return self.page_response(links, LinkOutputSerializer)

    @extend_schema(
        operation_id="projects_links_create",
        request=LinkCreateInputSerializer,
        responses={201: LinkOutputSerializer, **WRITE_ERRORS},
        parameters=[ETAG],
        description="Propose that two units (of the project's networks) or two groups are the "
        "same feature, with a note and, from a universality suggestion, the correlation. "
        "Annotators and up; a reviewer or owner other than the proposer confirms it.",
    )
    def post(self, request, slug):
        payload = LinkCreateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        sides = {}
        for field in ("unit_a", "unit_b"):
            if field in data:
                sides[field] = unit_for_field(
                    project=self.project,
                    network_name=data[field]["network"],
                    address=data[field]["unit"],
                    field=field,
                )
        for field in ("group_a", "group_b"):
            if field in data:
                sides[field] = group_for_field(
                    project=self.project, group_id=data[field], field=field
                )
        link = link_propose(
            project=self.project,
            actor=request.user,
            note=data["note"],
            correlation=data["correlation"],
            **sides,
        )
        return _link_response(self.project, link.pk, status.HTTP_201_CREATED)


class LinkDetailView(ProjectView):
    @extend_schema(
        operation_id="projects_links_retrieve",
        parameters=[ETAG],
        responses={200: LinkOutputSerializer, **READ_ERRORS},
    )
    def get(self, request, slug, link_id):
        return _link_response(self.project, link_id)


class LinkReviewView(ProjectView):
    @extend_schema(
        operation_id="projects_links_review",
        request=LinkReviewInputSerializer,
        parameters=[IF_MATCH, ETAG],
        responses={200: LinkOutputSerializer, **WRITE_ERRORS, 412: ERROR, 428: ERROR},
        description="Confirm or reject a proposed link: reviewers and owners, never its "
        "proposer. A link already reviewed gives 409 `invalid_transition`.",
    )
    def post(self, request, slug, link_id):
        link = link_get(project=self.project, link_id=link_id)
        authorize(actor=request.user, action="link.review", obj=link)
        version, data = conditional_input(request, LinkReviewInputSerializer)
        link_review(link=link, actor=request.user, expected_version=version, **data)
        return _link_response(self.project, link.pk)


class UnitLinksView(ProjectView):
    @extend_schema(
        operation_id="projects_units_links",
        responses={200: LinkOutputSerializer(many=True), **READ_ERRORS},
        description="The confirmed universality links of one unit, from either side.",
    )
    def get(self, request, slug, network, address):
        unit = unit_get_for_project(project=self.project, network_name=network, address=address)
        links = unit_links(project=self.project, unit=unit)
        return Response(LinkOutputSerializer(links, many=True).data)
