from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from annotations.api.serializers_rounds import (
    RoundAppliedOutputSerializer,
    RoundDecisionInputSerializer,
    RoundLabelOutputSerializer,
    RoundLabelsInputSerializer,
    RoundListItemOutputSerializer,
    RoundOpenInputSerializer,
    RoundOutputSerializer,
    RoundResultsOutputSerializer,
    RoundUnitResultOutputSerializer,
)
from annotations.api.views.base import ProjectView
from annotations.selectors.rounds import (
    round_detail,
    round_get_for_user,
    round_own_labels,
    round_results,
    rounds_for_project,
)
from annotations.services.round_decisions import round_agreed_apply, round_unit_decide
from annotations.services.rounds import round_close, round_labels_save, round_open, round_submit
from server.pagination import AtlasPagination

BLIND = (
    "A round is blind while open: labels, notes and scores of anyone are readable only once "
    "it is closed (403 `round_open` before), participants who have submitted included."
)


def _detail_response(view, round_id, status_code=status.HTTP_200_OK):
    labelling_round = round_get_for_user(
        user=view.request.user, project=view.project, round_id=round_id
    )
    detail = round_detail(labelling_round=labelling_round, user=view.request.user)
    return Response(RoundOutputSerializer(detail).data, status=status_code)


def _round(view, round_id, action):
    return round_get_for_user(
        user=view.request.user, project=view.project, round_id=round_id, action=action
    )


class RoundListView(ProjectView):
    project_actions = {"POST": "round.open"}
    pagination_class = AtlasPagination

    @extend_schema(
        operation_id="projects_rounds_list",
        responses={200: RoundListItemOutputSerializer(many=True)},
        description="The project's labelling rounds, newest first.",
    )
    def get(self, request, slug):
        rounds = rounds_for_project(project=self.project)
        return self.page_response(rounds, RoundListItemOutputSerializer)

    @extend_schema(
        operation_id="projects_rounds_open",
        request=RoundOpenInputSerializer,
        responses={201: RoundOutputSerializer},
        description="Open a blind labelling round on a layer (or a set of units) of one "
        "network, for two or more participants, choosing among project groups and "
        '"other". Owners and reviewers.',
    )
    def post(self, request, slug):
        payload = RoundOpenInputSerializer(data=request.data, project=self.project)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        labelling_round = round_open(
            project=self.project,
            network=data["network"],
            layer=data["layer"],
            units=data["units"],
            title=data["title"],
            instructions=data["instructions"],
            participants=data["participants"],
            group_ids=data["groups"],
            actor=request.user,
        )
        return _detail_response(self, labelling_round.pk, status.HTTP_201_CREATED)


class RoundDetailView(ProjectView):
    @extend_schema(
        operation_id="projects_rounds_retrieve",
        responses={200: RoundOutputSerializer},
        description="One round: its units, choices and participants (who submitted; how many "
        "units each labelled, for owners and reviewers), your own progress, and its agreement "
        "once closed. " + BLIND,
    )
    def get(self, request, slug, round_id):
        return _detail_response(self, round_id)


class RoundLabelsView(ProjectView):
    @extend_schema(
        operation_id="projects_rounds_labels_list",
        responses={200: RoundLabelOutputSerializer(many=True)},
        description="Your own labels in the round (participants only), never anyone else's.",
    )
    def get(self, request, slug, round_id):
        labelling_round = _round(self, round_id, "round.label")
        labels = round_own_labels(labelling_round=labelling_round, user=request.user)
        return Response(RoundLabelOutputSerializer(labels, many=True).data)

    @extend_schema(
        operation_id="projects_rounds_labels_save",
        request=RoundLabelsInputSerializer,
        responses={200: RoundLabelOutputSerializer(many=True)},
        description="Save labels of many units at once (participants, until they submit); a "
        "unit saved again gets the new label. All or nothing. The response is all your "
        "labels.",
    )
    def put(self, request, slug, round_id):
        labelling_round = _round(self, round_id, "round.label")
        payload = RoundLabelsInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        round_labels_save(
            labelling_round=labelling_round,
            labels=payload.validated_data["labels"],
            actor=request.user,
        )
        labels = round_own_labels(labelling_round=labelling_round, user=request.user)
        return Response(RoundLabelOutputSerializer(labels, many=True).data)


class RoundSubmitView(ProjectView):
    @extend_schema(
        operation_id="projects_rounds_submit",
        request=None,
        responses={200: RoundOutputSerializer},
        description="Submit your labels (every unit labelled, else 409 `round_incomplete`); "
        "they are frozen. The last participant to submit closes the round.",
    )
    def post(self, request, slug, round_id):
        labelling_round = _round(self, round_id, "round.label")
        round_submit(labelling_round=labelling_round, actor=request.user)
        return _detail_response(self, round_id)


class RoundCloseView(ProjectView):
    @extend_schema(
        operation_id="projects_rounds_close",
        request=None,
        responses={200: RoundOutputSerializer},
        description="Close an open round early (owners); labels given so far count.",
    )
    def post(self, request, slug, round_id):
        labelling_round = _round(self, round_id, "round.view")
        round_close(labelling_round=labelling_round, actor=request.user)
        return _detail_response(self, round_id)


class RoundResultsView(ProjectView):
    @extend_schema(
        operation_id="projects_rounds_results",
        responses={200: RoundResultsOutputSerializer},
        description="A closed round's agreement, and every unit with each participant's "
        "label and note and the decision taken. " + BLIND,
    )
    def get(self, request, slug, round_id):
        labelling_round = _round(self, round_id, "round.results")
        data = {
            "agreement": labelling_round.agreement,
            "units": round_results(labelling_round=labelling_round),
        }
        return Response(RoundResultsOutputSerializer(data).data)


class RoundDisagreementsView(ProjectView):
    @extend_schema(
        operation_id="projects_rounds_disagreements",
        responses={200: RoundUnitResultOutputSerializer(many=True)},
        description="The disagreement queue of a closed round: undecided units whose labels "
        "differ (or that fewer than two participants labelled). " + BLIND,
    )
    def get(self, request, slug, round_id):
        labelling_round = _round(self, round_id, "round.results")
        units = round_results(labelling_round=labelling_round, disagreements_only=True)
        return Response(RoundUnitResultOutputSerializer(units, many=True).data)


class RoundDecisionsView(ProjectView):
    @extend_schema(
        operation_id="projects_rounds_decide",
        request=RoundDecisionInputSerializer,
        responses={201: RoundUnitResultOutputSerializer},
        description="Decide a unit of the disagreement queue (owners and reviewers, closed "
        "rounds): a group becomes its accepted group, credited to the round; other leaves it "
        "as it is. 409 `already_decided` or `not_disputed` (everyone agreed).",
    )
    def post(self, request, slug, round_id):
        labelling_round = _round(self, round_id, "round.decide")
        payload = RoundDecisionInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        unit = payload.validated_data["unit"]
        round_unit_decide(
            labelling_round=labelling_round,
            unit=unit,
            group_id=payload.validated_data["group"],
            actor=request.user,
        )
        (result,) = [
            row for row in round_results(labelling_round=labelling_round) if row["unit"] == unit
        ]
        data = RoundUnitResultOutputSerializer(result).data
        return Response(data, status=status.HTTP_201_CREATED)


class RoundAgreedApplyView(ProjectView):
    @extend_schema(
        operation_id="projects_rounds_apply_agreed",
        request=None,
        responses={200: RoundAppliedOutputSerializer},
        description="Apply every undecided unit everyone agreed on (owners and reviewers, "
        "closed rounds): its group becomes the unit's accepted group, credited to the round.",
    )
    def post(self, request, slug, round_id):
        labelling_round = _round(self, round_id, "round.decide")
        decided, assigned = round_agreed_apply(labelling_round=labelling_round, actor=request.user)
        data = {"decided": decided, "assigned": assigned}
        return Response(RoundAppliedOutputSerializer(data).data)
