import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from annotations.models import Assignment, Event, Project, Role
from tests.factories.annotations import (
    AssignmentFactory,
    GroupFactory,
    MembershipFactory,
    ProjectNetworkFactory,
)
from tests.factories.workers import LayerFactory

pytestmark = pytest.mark.django_db

BULK = "/api/v1/projects/curves/assignments/"


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def annotator():
    return MembershipFactory(role=Role.ANNOTATOR, project__slug="curves", user__username="ann")


@pytest.fixture
def client(annotator):
    client = APIClient()
    client.force_authenticate(annotator.user)
    return client


@pytest.fixture
def layer(annotator):
    network = ProjectNetworkFactory(project=annotator.project, network__name="inception").network
    return LayerFactory(network=network, name="mixed3b", channels=600)


@pytest.fixture
def curves(annotator):
    return GroupFactory(project=annotator.project, name="Curves")


def _unit_url(address):
    return f"/api/v1/projects/curves/units/inception/{address}/group/"


def _addresses(count):
    return [f"mixed3b:{index}" for index in range(count)]


def test_put_sets_the_unit_group_and_returns_it(client, layer, curves):
    response = client.put(_unit_url("mixed3b:7"), {"group": curves.pk, "note": "Clear curve"})

    assignment = Assignment.objects.get()
    assert response.status_code == 200
    assert response.json() == {
        "network": "inception",
        "address": "mixed3b:7",
        "unit_id": assignment.unit_id,
        "group": curves.pk,
        "note": "Clear curve",
        "source": "direct",
        "hypothesis": None,
        "assigned_by": "ann",
        "assigned_at": _iso(assignment.assigned_at),
    }
    assert list(Event.objects.values_list("verb", "target_id")) == [
        ("unit.assigned", assignment.unit_id)
    ]


def test_put_null_takes_the_unit_out_of_its_group(client, layer, curves):
    unit = layer.units.get(index=7)
    AssignmentFactory(group=curves, unit=unit)

    response = client.put(_unit_url("mixed3b:7"), {"group": None})

    assert response.status_code == 200
    assert response.json() == {
        "network": "inception",
        "address": "mixed3b:7",
        "unit_id": unit.pk,
        "group": None,
        "note": None,
        "source": None,
        "hypothesis": None,
        "assigned_by": None,
        "assigned_at": None,
    }
    assert not Assignment.objects.exists()


def test_put_on_an_unknown_unit_is_a_404(client, layer, curves):
    response = client.put(_unit_url("mixed3b:600"), {"group": curves.pk})

    assert response.status_code == 404
    assert response.json()["code"] == "unknown_unit"
    assert not Event.objects.exists()


def test_put_on_a_network_the_project_does_not_study_is_a_404(client, curves):
    LayerFactory(network__name="alexnet", name="conv1")

    response = client.put(
        "/api/v1/projects/curves/units/alexnet/conv1:0/group/", {"group": curves.pk}
    )

    assert response.status_code == 404
    assert response.json()["detail"] == "This project studies no network 'alexnet'."
    assert not Assignment.objects.exists()


def test_put_with_a_group_of_another_project_is_a_422(client, layer):
    response = client.put(_unit_url("mixed3b:7"), {"group": GroupFactory().pk})

    assert response.status_code == 422
    assert response.json()["fields"] == {"group": ["Unknown group."]}
    assert not Assignment.objects.exists()


def test_put_when_assignments_need_review_is_a_403_that_asks_for_a_hypothesis(
    client, annotator, layer, curves
):
    Project.objects.update(assignments_need_review=True)

    response = client.put(_unit_url("mixed3b:7"), {"group": curves.pk})

    assert response.status_code == 403
    assert response.json() == {
        "detail": "In this project units change group only through reviewed hypotheses; "
        "propose a hypothesis with this assignment instead.",
        "code": "hypothesis_required",
        "fields": {},
    }
    assert not Assignment.objects.exists()
    assert not Event.objects.exists()


def test_bulk_assignment_of_500_units_is_one_request_with_500_events(client, layer, curves):
    response = client.post(
        BULK,
        {"network": "inception", "units": _addresses(500), "group": curves.pk, "note": "Grid"},
    )

    assert response.status_code == 200
    assert response.json() == {"units": 500, "changed": 500}
    assert Assignment.objects.filter(group=curves, note="Grid").count() == 500
    assert Event.objects.filter(verb="unit.assigned").count() == 500


def test_bulk_assignment_with_a_malformed_unit_anywhere_is_a_400_changing_nothing(
    client, layer, curves
):
    units = _addresses(500)
    units[3], units[250] = "mixed3b:600", "mixed3b"

    response = client.post(BULK, {"network": "inception", "units": units, "group": curves.pk})

    assert response.status_code == 400
    assert response.json()["fields"] == {"units.250": ['Write a unit as "layer:index".']}
    assert not Assignment.objects.exists()
    assert not Event.objects.exists()


def test_bulk_assignment_with_unknown_units_anywhere_is_a_422_naming_each(client, layer, curves):
    units = _addresses(500)
    units[3], units[499] = "mixed3b:600", "mixed9z:1"

    response = client.post(BULK, {"network": "inception", "units": units, "group": curves.pk})

    assert response.status_code == 422
    assert response.json() == {
        "detail": "2 unit addresses are unknown; nothing was changed.",
        "code": "unknown_reference",
        "fields": {
            "units.3": ["No unit mixed3b:600 in this project."],
            "units.499": ["No unit mixed9z:1 in this project."],
        },
    }
    assert not Assignment.objects.exists()
    assert not Event.objects.exists()


def test_bulk_assignment_with_a_unit_listed_twice_is_a_400(client, layer, curves):
    response = client.post(
        BULK,
        {
            "network": "inception",
            "units": ["mixed3b:1", "mixed3b:2", "mixed3b:1"],
            "group": curves.pk,
        },
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {"units.2": ["mixed3b:1 is listed twice."]}
    assert not Assignment.objects.exists()


def test_bulk_assignment_of_more_than_5000_units_is_a_400(client, layer, curves):
    response = client.post(
        BULK, {"network": "inception", "units": _addresses(5001), "group": curves.pk}
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "units": ["Ensure this field has no more than 5000 elements."]
    }


def test_bulk_assignment_on_a_network_the_project_does_not_study_is_a_422(client, curves):
    response = client.post(BULK, {"network": "alexnet", "units": ["conv1:0"], "group": curves.pk})

    assert response.status_code == 422
    assert response.json()["fields"] == {"network": ["Not a network of this project."]}


def test_bulk_null_takes_the_units_out_of_their_groups(client, layer, curves):
    for unit in layer.units.filter(index__lt=3):
        AssignmentFactory(group=curves, unit=unit)

    response = client.post(BULK, {"network": "inception", "units": _addresses(3), "group": None})

    assert response.json() == {"units": 3, "changed": 3}
    assert not Assignment.objects.exists()


def _bulk_queries(client, count, group):
    with CaptureQueriesContext(connection) as captured:
        response = client.post(
            BULK, {"network": "inception", "units": _addresses(count), "group": group.pk}
        )
    assert response.status_code == 200
    statements = [query["sql"].lstrip().split()[0].upper() for query in captured.captured_queries]
    return [kind for kind in statements if kind != "INSERT"], statements.count("INSERT")


def _insert_batches(model, count):
    """How many INSERTs a bulk_create of ``count`` new rows takes on this database."""
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    size = min(500, connection.ops.bulk_batch_size(fields, [None] * count))
    return -(-count // size)


def test_bulk_assignment_queries_grow_only_by_insert_batches(client, annotator, layer):
    few, many = GroupFactory(project=annotator.project), GroupFactory(project=annotator.project)

    others_50, inserts_50 = _bulk_queries(client, 50, few)
    Assignment.objects.all().delete()
    others_500, inserts_500 = _bulk_queries(client, 500, many)

    assert others_500 == others_50
    assert inserts_50 == _insert_batches(Assignment, 50) + _insert_batches(Event, 50)
    assert inserts_500 == _insert_batches(Assignment, 500) + _insert_batches(Event, 500)


def test_a_unit_address_is_checked_as_sent_not_trimmed(client, layer, curves):
    response = client.post(
        BULK, {"network": "inception", "units": ["\x1c:9"], "group": curves.pk}, format="json"
    )

    assert (response.status_code, list(response.json()["fields"])) == (422, ["units.0"])
