from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from annotations.api.serializers_comments import (
    CommentEditInputSerializer,
    CommentOutputSerializer,
    CommentPostInputSerializer,
    CommentRevisionOutputSerializer,
    CommentTargetQuerySerializer,
    CommentThreadOutputSerializer,
)
from annotations.api.views.base import ProjectView, conditional_input
from annotations.selectors.comments import (
    comment_for_reply,
    comment_get,
    comment_revisions,
    comment_target_resolve,
    comment_threads,
)
from annotations.services.comments import (
    comment_delete,
    comment_edit,
    comment_post,
    thread_reopen,
    thread_resolve,
)
from server.concurrency import expected_version, with_etag
from server.pagination import AtlasPagination
from server.schema import ERROR, if_match_parameter

IF_MATCH = if_match_parameter("comment")
ETAG = OpenApiParameter(
    "ETag",
    location=OpenApiParameter.HEADER,
    response=[200, 201],
    description="The comment's version; send it back as If-Match to change the comment.",
)
WRITE_ERRORS = {400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR}
CONDITIONAL_ERRORS = {**WRITE_ERRORS, 412: ERROR, 428: ERROR}


def _comment_response(comment, status_code=status.HTTP_200_OK):
    return with_etag(
        Response(CommentOutputSerializer(comment).data, status=status_code), comment.version
    )


class CommentListView(ProjectView):
    project_actions = {"POST": "comment.create"}
    pagination_class = AtlasPagination

    @extend_schema(
        operation_id="projects_comments_list",
        parameters=[CommentTargetQuerySerializer],
        responses={
            200: CommentThreadOutputSerializer(many=True),
            400: ERROR,
            401: ERROR,
            404: ERROR,
        },
        description="The threads on one unit, group, hypothesis or circuit, oldest first; "
        "each thread is its first comment with every later comment of it in `replies` "
        "(flat, oldest first, each with the `parent` it answers). Pages count threads.",
    )
    def get(self, request, slug):
        query = CommentTargetQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        target = comment_target_resolve(project=self.project, **query.validated_data)
        return self.page_response(
            comment_threads(project=self.project, target=target), CommentThreadOutputSerializer
        )

    @extend_schema(
        operation_id="projects_comments_create",
        request=CommentPostInputSerializer,
        responses={201: CommentOutputSerializer, **WRITE_ERRORS},
        parameters=[ETAG],
        description="Start a thread on a target, or answer a comment (`parent`) on the same "
        "target. Annotators, reviewers and owners. Mentioned members (`@username`) and the "
        "thread's earlier participants are notified.",
    )
    def post(self, request, slug):
        payload = CommentPostInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        parent = (
            comment_for_reply(project=self.project, comment_id=data["parent"])
            if data.get("parent")
            else None
        )
        comment = comment_post(
            project=self.project,
            target_type=data["target_type"],
            target_id=data["target_id"],
            body=data["body"],
            parent=parent,
            actor=request.user,
        )
        return _comment_response(comment, status.HTTP_201_CREATED)


class CommentDetailView(ProjectView):
    @extend_schema(
        operation_id="projects_comments_retrieve",
        responses={200: CommentOutputSerializer, 401: ERROR, 404: ERROR},
        parameters=[ETAG],
    )
    def get(self, request, slug, comment_id):
        return _comment_response(comment_get(project=self.project, comment_id=comment_id))

    @extend_schema(
        operation_id="projects_comments_update",
        request=CommentEditInputSerializer,
        responses={200: CommentOutputSerializer, **CONDITIONAL_ERRORS},
        parameters=[IF_MATCH, ETAG],
        description="Replace the body; the author only. The previous body is kept as a "
        "revision; members mentioned for the first time are notified. A deleted comment "
        "cannot be edited (409 `comment_deleted`).",
    )
    def patch(self, request, slug, comment_id):
        comment = comment_get(project=self.project, comment_id=comment_id)
        version, data = conditional_input(request, CommentEditInputSerializer)
        comment = comment_edit(
            comment=comment, **data, expected_version=version, actor=request.user
        )
        return _comment_response(comment)

    @extend_schema(
        operation_id="projects_comments_destroy",
        responses={200: CommentOutputSerializer, **CONDITIONAL_ERRORS},
        parameters=[IF_MATCH, ETAG],
        description="Delete a comment: its author or a project owner. The comment stays in "
        "its thread with an empty body, a placeholder `body_html` and no revisions.",
    )
    def delete(self, request, slug, comment_id):
        comment = comment_get(project=self.project, comment_id=comment_id)
        comment = comment_delete(
            comment=comment, expected_version=expected_version(request), actor=request.user
        )
        return _comment_response(comment)


class CommentRevisionListView(ProjectView):
    pagination_class = AtlasPagination

    @extend_schema(
        operation_id="projects_comments_revisions_list",
        responses={200: CommentRevisionOutputSerializer(many=True), 401: ERROR, 404: ERROR},
        description="The bodies the comment had before each edit, oldest first.",
    )
    def get(self, request, slug, comment_id):
        comment = comment_get(project=self.project, comment_id=comment_id)
        return self.page_response(
            comment_revisions(comment=comment), CommentRevisionOutputSerializer
        )


class ThreadResolveView(ProjectView):
    @extend_schema(
        operation_id="projects_comments_resolve",
        request=None,
        responses={200: CommentOutputSerializer, **WRITE_ERRORS},
        parameters=[ETAG],
        description="Resolve the thread this comment starts: its author, reviewers, owners. "
        "A reply gives 400 `not_thread_root`; a resolved thread 409.",
    )
    def post(self, request, slug, comment_id):
        comment = comment_get(project=self.project, comment_id=comment_id)
        return _comment_response(thread_resolve(comment=comment, actor=request.user))


class ThreadReopenView(ProjectView):
    @extend_schema(
        operation_id="projects_comments_reopen",
        request=None,
        responses={200: CommentOutputSerializer, **WRITE_ERRORS},
        parameters=[ETAG],
        description="Reopen a resolved thread: its author, reviewers, owners. An open thread "
        "gives 409.",
    )
    def post(self, request, slug, comment_id):
        comment = comment_get(project=self.project, comment_id=comment_id)
        return _comment_response(thread_reopen(comment=comment, actor=request.user))
