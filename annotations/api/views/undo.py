"""Undoing your own last change: what it would undo (GET), and undoing one change (POST)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from annotations.api.views.base import ProjectView
from annotations.services.undo import change_undo, last_undoable
from server.schema import ERROR

RULES = (
    " Only your own direct assignments (a grid selection, a unit card) and group merges can be "
    "undone, once each, and only while nothing has changed those units' groups since; an "
    "undo writes new events (`after.undoes`) and deletes no history."
)


class UndoInputSerializer(serializers.Serializer):
    event = serializers.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        help_text="An event of the change: one of its `unit.assigned`/`unit.unassigned` events "
        "(the whole assignment it was part of is undone) or its `group.merged` event.",
    )


class UndoableChangeSerializer(serializers.Serializer):
    event = serializers.IntegerField(help_text="Send it back to undo the change.")
    verb = serializers.CharField()
    summary = serializers.CharField(help_text='e.g. "put 12 units into Curves".')
    units = serializers.ListField(child=serializers.CharField(), help_text="Their addresses.")
    created_at = serializers.DateTimeField()


class LastUndoableOutputSerializer(serializers.Serializer):
    change = UndoableChangeSerializer(
        allow_null=True, help_text="Your latest change if it can be undone; null otherwise."
    )


class UndoOutputSerializer(serializers.Serializer):
    undone = serializers.IntegerField(help_text="The event named.")
    units_changed = serializers.IntegerField()
    group = serializers.IntegerField(
        allow_null=True, help_text="A merge undone: the merged group, made again (a new id)."
    )


class UndoView(ProjectView):
    @extend_schema(
        operation_id="projects_undo_retrieve",
        responses={200: LastUndoableOutputSerializer, 401: ERROR, 404: ERROR},
        description="Your latest direct assignment or merge in this project, if it can still "
        "be undone." + RULES,
    )
    def get(self, request, slug):
        change = last_undoable(project=self.project, actor=request.user)
        return Response(LastUndoableOutputSerializer({"change": change}).data)

    @extend_schema(
        operation_id="projects_undo",
        request=UndoInputSerializer,
        responses={
            200: UndoOutputSerializer,
            400: ERROR,
            401: ERROR,
            403: ERROR,
            404: ERROR,
            409: ERROR,
            422: ERROR,
        },
        description="Undo the change an event of yours belongs to." + RULES + " Someone "
        "else's change gives 403 `not_your_change`; another kind of change 422 "
        "`not_undoable`; a change undone already 409 `already_undone`; units changed since "
        "409 `undo_conflict` naming them in `fields.units`; a group to go back to that no "
        "longer exists 409 `group_missing`.",
    )
    def post(self, request, slug):
        payload = UndoInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        result = change_undo(
            project=self.project, actor=request.user, event_id=payload.validated_data["event"]
        )
        return Response(UndoOutputSerializer(result).data)
