"""Putting units into groups directly: one unit, or a grid selection of up to 5000 at once."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from annotations.api.serializers_taxonomy import (
    AssignmentsInputSerializer,
    AssignmentsOutputSerializer,
    UnitGroupInputSerializer,
    UnitGroupOutputSerializer,
)
from annotations.api.views.base import ProjectView
from annotations.selectors.taxonomy import group_for_field, project_network_get
from annotations.services.groups import direct_assignment_authorize, unit_assign, units_assign
from server.errors import NotFound, UnknownReference
from server.schema import ERROR
from workers.selectors.catalog import unit_get

ERRORS = {400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR}
POLICY = (
    " Annotators and up; when the project's policy says assignments need review, only owners "
    "(others get 403 `hypothesis_required`: propose a hypothesis instead)."
)


def _group(project, group_id):
    if group_id is None:
        return None
    return group_for_field(project=project, group_id=group_id, field="group")


class UnitGroupView(ProjectView):
    @extend_schema(
        operation_id="projects_units_group_set",
        request=UnitGroupInputSerializer,
        responses={200: UnitGroupOutputSerializer, **ERRORS},
        description="Set the unit's accepted group in this project (null: no group)." + POLICY,
    )
    def put(self, request, slug, network, address):
        direct_assignment_authorize(project=self.project, actor=request.user)
        studied = project_network_get(project=self.project, name=network)
        if studied is None:
            raise NotFound(f"This project studies no network {network!r}.")
        unit = unit_get(network=studied, address=address)
        payload = UnitGroupInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        assignment = unit_assign(
            project=self.project,
            unit=unit,
            group=_group(self.project, payload.validated_data["group"]),
            note=payload.validated_data["note"],
            actor=request.user,
        )
        unit_group = {
            "network": studied.name,
            "address": str(unit.address),
            "unit_id": unit.pk,
            "assignment": assignment,
        }
        return Response(UnitGroupOutputSerializer(unit_group).data)


class AssignmentsView(ProjectView):
    @extend_schema(
        operation_id="projects_assignments_apply",
        request=AssignmentsInputSerializer,
        responses={200: AssignmentsOutputSerializer, **ERRORS},
        description="Set the group of many units of one network at once (null: no group), "
        "all or nothing: an unknown or repeated unit anywhere gives 400 naming each bad entry "
        "(`fields.units.<position>`) and changes nothing. One event per changed unit." + POLICY,
    )
    def post(self, request, slug):
        direct_assignment_authorize(project=self.project, actor=request.user)
        payload = AssignmentsInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        network = project_network_get(project=self.project, name=data["network"])
        if network is None:
            raise UnknownReference(
                f"This project studies no network {data['network']!r}.",
                fields={"network": ["Not a network of this project."]},
            )
        changed = units_assign(
            project=self.project,
            network=network,
            addresses=data["units"],
            group=_group(self.project, data["group"]),
            note=data["note"],
            actor=request.user,
        )
        return Response(
            AssignmentsOutputSerializer({"units": len(data["units"]), "changed": changed}).data
        )
