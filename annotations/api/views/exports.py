"""Exports (JSON, CSV, HTML overview) of the live taxonomy or a release, streamed; imports
(with a dry run); releases, and the diff between two."""

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response

from annotations.api.serializers_exports import (
    ExportQuerySerializer,
    ImportInputSerializer,
    ImportReportOutputSerializer,
    ImportUploadInputSerializer,
    ReleaseCreateInputSerializer,
    ReleaseDiffOutputSerializer,
    ReleaseOutputSerializer,
)
from annotations.api.views.base import ProjectView
from annotations.selectors.exports import export_network_get
from annotations.selectors.releases import (
    release_against,
    release_diff,
    release_get,
    releases_of,
)
from annotations.selectors.taxonomy import project_network_get
from annotations.services.exports import FORMATS, taxonomy_export
from annotations.services.imports import taxonomy_import
from annotations.services.releases import release_create
from server.errors import NotFound, UnknownReference, Unprocessable
from server.pagination import AtlasPagination
from server.parsers import AtlasFormParser, AtlasJSONParser, AtlasMultiPartParser
from server.schema import ERROR

READ_ERRORS = {400: ERROR, 401: ERROR, 404: ERROR}
WRITE_ERRORS = {400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR}
EXPORT_RESPONSES = {
    (200, "application/json"): OpenApiResponse(
        OpenApiTypes.OBJECT,
        description="The document of `annotations/schemas/taxonomy-export-v1.schema.json`.",
    ),
    (200, "text/csv"): OpenApiResponse(
        OpenApiTypes.STR,
        description="One row per unit: network,layer,unit,group_path,status,changed_by,changed_at.",
    ),
    (200, "text/html"): OpenApiResponse(
        OpenApiTypes.STR, description="A self-contained overview page with images."
    ),
    **{(code, "application/json"): ERROR for code in READ_ERRORS},
}
EXPORT_PARAMETERS = [
    OpenApiParameter(
        "file_format",
        location=OpenApiParameter.PATH,
        enum=FORMATS,
        description="json, csv or html.",
    ),
    ExportQuerySerializer,
]


class StreamNegotiation(BaseContentNegotiation):
    """Downloads choose their type by URL, whatever the Accept header says; errors are JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _download(request, project, release, file_format):
    query = ExportQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    if file_format not in FORMATS:
        raise NotFound(f"No export format {file_format!r}; use one of {', '.join(FORMATS)}.")
    export = taxonomy_export(
        project=project,
        network=export_network_get(
            project=project, network_name=query.validated_data.get("network")
        ),
        actor=request.user,
        format=file_format,
        release=release,
        include_comments=query.validated_data["comments"],
        base_url=request.build_absolute_uri("/"),
    )
    response = StreamingHttpResponse(export.chunks, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response


class ExportView(ProjectView):
    project_action = "taxonomy.export"
    content_negotiation_class = StreamNegotiation

    @extend_schema(
        operation_id="projects_export",
        parameters=EXPORT_PARAMETERS,
        responses=EXPORT_RESPONSES,
        description="Download the live taxonomy of one network as JSON, CSV or an HTML "
        "overview, streamed. Any member.",
    )
    def get(self, request, slug, file_format):
        return _download(request, self.project, None, file_format)


class ImportView(ProjectView):
    project_action = "taxonomy.import"
    parser_classes = [AtlasJSONParser, AtlasMultiPartParser, AtlasFormParser]
    body_limit_setting = "ATLAS_MAX_IMPORT_BYTES"

    @extend_schema(
        operation_id="projects_import",
        request={
            "application/json": ImportInputSerializer,
            "application/x-www-form-urlencoded": ImportInputSerializer,
            "multipart/form-data": ImportUploadInputSerializer,
        },
        responses={200: ImportReportOutputSerializer, **WRITE_ERRORS},
        description="Import a taxonomy file into one network's taxonomy: the JSON export, the "
        "CSV export, or the simple CSV `layer,unit,group,parent_group,description`. The whole "
        "file is checked first: a bad file gives 422 `import_invalid` with each bad row in "
        "`fields` (`rows.<line>` for a CSV, `units.<i>`, `groups.<i>`, ... for JSON) and "
        "changes nothing. `dry_run` reports what would change. Groups are matched by path and "
        "created as needed (in the simple CSV a row's group is the path `parent_group / group`, "
        "either column itself a path with ` / `; a slash inside a name is written `\\/`); "
        "importing the same file twice changes nothing the second time. "
        "Reviewers and owners.",
    )
    def post(self, request, slug):
        multipart = request.content_type.startswith("multipart/")
        payload = (ImportUploadInputSerializer if multipart else ImportInputSerializer)(
            data=request.data
        )
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        if ("file" in data) == ("content" in data):
            raise Unprocessable(
                "Send the file as `file` or its text as `content`, one of the two.",
                fields={"file": ["Give either file or content."]},
            )
        network = project_network_get(project=self.project, name=data["network"])
        if network is None:
            raise UnknownReference(
                f"This project studies no network {data['network']!r}.",
                fields={"network": ["Not a network of this project."]},
            )
        content = data["file"].read() if "file" in data else data["content"]
        report = taxonomy_import(
            project=self.project,
            network=network,
            actor=request.user,
            format=data["format"],
            content=content,
            dry_run=data["dry_run"],
        )
        return Response(ImportReportOutputSerializer(report).data)


class ReleaseListView(ProjectView):
    project_action = "taxonomy.export"
    project_actions = {"POST": "release.create"}
    pagination_class = AtlasPagination

    @extend_schema(
        operation_id="projects_releases_list",
        responses={200: ReleaseOutputSerializer(many=True), **READ_ERRORS},
        description="The project's releases, newest first. Any member.",
    )
    def get(self, request, slug):
        return self.page_response(releases_of(project=self.project), ReleaseOutputSerializer)

    @extend_schema(
        operation_id="projects_releases_create",
        request=ReleaseCreateInputSerializer,
        responses={201: ReleaseOutputSerializer, **WRITE_ERRORS},
        description="Freeze the taxonomy (every network's groups and units, and the "
        "hypotheses) as a named release; releases never change. A taken name gives 409 "
        "`name_taken`. Owners.",
    )
    def post(self, request, slug):
        payload = ReleaseCreateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        release = release_create(project=self.project, actor=request.user, **payload.validated_data)
        return Response(
            ReleaseOutputSerializer(release_get(project=self.project, name=release.name)).data,
            status=status.HTTP_201_CREATED,
        )


class ReleaseDetailView(ProjectView):
    project_action = "taxonomy.export"

    @extend_schema(
        operation_id="projects_releases_retrieve",
        responses={200: ReleaseOutputSerializer, **READ_ERRORS},
    )
    def get(self, request, slug, name):
        return Response(ReleaseOutputSerializer(release_get(project=self.project, name=name)).data)


class ReleaseExportView(ProjectView):
    project_action = "taxonomy.export"
    content_negotiation_class = StreamNegotiation

    @extend_schema(
        operation_id="projects_releases_export",
        parameters=EXPORT_PARAMETERS,
        responses=EXPORT_RESPONSES,
        description="Download a release of one network's taxonomy as JSON, CSV or an HTML "
        "overview, streamed. Any member.",
    )
    def get(self, request, slug, name, file_format):
        release = release_get(project=self.project, name=name)
        return _download(request, self.project, release, file_format)


class ReleaseDiffView(ProjectView):
    project_action = "taxonomy.export"

    @extend_schema(
        operation_id="projects_releases_diff",
        parameters=[
            OpenApiParameter(
                "against",
                description="The release to compare with (any release of the project; "
                "one that names none gives 422); the one made just before this release when "
                "left out.",
            )
        ],
        responses={200: ReleaseDiffOutputSerializer, **READ_ERRORS},
        description="What changed from an older release to this one: groups added, removed, "
        "renamed, moved and changed (followed by key, so a renamed group is not a removal and "
        "an addition) and each unit whose group differs, with `from` and `to`. Any member.",
    )
    def get(self, request, slug, name):
        newer = release_get(project=self.project, name=name)
        older = release_against(release=newer, name=request.query_params.get("against"))
        return Response(ReleaseDiffOutputSerializer(release_diff(older=older, newer=newer)).data)
