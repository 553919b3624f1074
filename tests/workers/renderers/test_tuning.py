"""The tuning job through the job runner: per-unit curves, plots, the layer summary, progress
and cancel, and the parameters it accepts."""

import io
import json

import numpy as np
import pytest
from PIL import Image

from annotations.models import Role
from server.errors import ValidationFailed
from tests.factories.annotations import MembershipFactory, ProjectNetworkFactory, UserFactory
from workers.formats.tuning_plot import tuning_plot
from workers.models import Artifact, Job
from workers.services import jobs as job_services
from workers.services.job_run import job_run
from workers.services.jobs import job_cancel, job_request
from workers.services.networks import network_register

pytestmark = pytest.mark.django_db

UNITS = [0, 5, 23]
# The cheap families: 24 edges and 16 dots at the default angle step.
FAMILIES = "edge,dot"


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr(job_services, "_enqueue_after_commit", lambda job_id, countdown=None: None)


@pytest.fixture
def network():
    return network_register(name="tiny", arch="mobilenet_v2", random_seed=0, input_size=64)


def request_tuning(network, layer="features.2", units=UNITS, **params):
    job, _ = job_request(
        network=network,
        kind="tuning",
        layer_name=layer,
        unit_indices=units,
        params={"families": FAMILIES, **params},
        actor=None,
    )
    return job


def run(job, **kwargs):
    job_run(job_id=job.pk, **kwargs)
    job.refresh_from_db()
    return job


def read(artifact):
    with artifact.file.open("rb") as handle:
        return handle.read()


def test_a_tuning_job_writes_each_units_curves_and_plots_and_a_layer_summary(network):
    job = run(request_tuning(network))

    assert job.status == "succeeded", job.error
    rows = Artifact.objects.filter(job=job)
    assert sorted((a.unit.index if a.unit else -1, a.kind, a.variant) for a in rows) == sorted(
        [(unit, "unit_json", "") for unit in UNITS]
        + [(unit, "unit_image", "tuning") for unit in UNITS]
        + [(unit, "unit_image", "tuning-svg") for unit in UNITS]
        + [(-1, "layer_data", "tuning"), (-1, "layer_data", "responses")]
    )
    assert job.timings["stimuli"] == 24 + 16


def test_a_units_summary_holds_responses_preferred_stimuli_and_selectivity(network):
    job = run(request_tuning(network))

    row = Artifact.objects.get(job=job, unit__index=5, kind="unit_json")
    summary = json.loads(read(row))
    edge = summary["families"]["edge"]
    assert summary["unit"] == "features.2:5"
    assert set(summary["families"]) == {"edge", "dot"}
    assert summary["placement"]["receptive_field"] == 11
    assert summary["placement"]["diameter"] == 11.0
    assert len(edge["responses"]) == 24
    assert edge["preferred"]["direction"] == edge["curve_values"][int(np.argmax(edge["curve"]))]
    assert edge["index"] == "circular_variance"
    assert summary["families"]["dot"]["index"] == "peak_selectivity"
    assert row.meta["edge"] == {
        "preferred": edge["preferred"],
        "index": "circular_variance",
        "selectivity": edge["selectivity"],
    }


@pytest.mark.parametrize(
    ("layer", "activation"), [("features.0", "pre-activation"), ("features.2", "layer output")]
)
def test_the_summaries_say_whether_the_pre_activation_was_read(network, layer, activation):
    # features.0 ends in a ReLU6; features.2, a linear bottleneck, ends in no activation.
    job = run(request_tuning(network, layer=layer, units=[1], families="dot"))

    assert job.status == "succeeded", job.error
    unit = json.loads(read(Artifact.objects.get(job=job, kind="unit_json")))
    layer_summary = json.loads(read(Artifact.objects.get(job=job, variant="tuning", unit=None)))
    assert (unit["activation"], layer_summary["activation"]) == (activation, activation)


def test_the_plot_is_a_png_and_an_svg(network):
    job = run(request_tuning(network))

    png = Artifact.objects.get(job=job, unit__index=0, variant="tuning")
    svg = Artifact.objects.get(job=job, unit__index=0, variant="tuning-svg")
    assert png.content_type == "image/png"
    assert Image.open(io.BytesIO(read(png))).size[0] > 400
    assert svg.content_type == "image/svg+xml"
    assert b"<svg" in read(svg)


def test_the_layer_arrays_keep_every_units_responses(network):
    job = run(request_tuning(network))

    layer_data = Artifact.objects.filter(job=job, kind="layer_data")
    arrays = np.load(io.BytesIO(read(layer_data.get(variant="responses"))))
    summary = json.loads(read(layer_data.get(variant="tuning")))
    assert arrays["units"].tolist() == UNITS
    assert arrays["edge"].shape == (3, 24)
    assert arrays["dot"].shape == (3, 8, 2)
    assert sorted(summary["units"]) == ["0", "23", "5"]
    assert summary["stimuli"] == 40


def test_progress_counts_stimuli_then_plots(network, settings):
    settings.ATLAS_PROGRESS_MIN_INTERVAL_SECONDS = 0
    seen = []

    run(request_tuning(network, batch_size=10), on_progress=lambda d, t, m: seen.append((d, t)))

    # 24 edges and 16 dots in batches of 10 per family, then the 3 units' plots in one chunk.
    assert [d for d, t in seen if t == 40 + 3] == [0, 10, 20, 24, 34, 40, 43]


def test_a_tuning_job_cancelled_midway_stops_and_records_no_layer_summary(network, settings):
    settings.ATLAS_PROGRESS_MIN_INTERVAL_SECONDS = 0
    job = request_tuning(network, batch_size=10)

    def cancel_at_twenty(done, total, message):
        if done == 20:
            job_cancel(job=Job.objects.get(pk=job.pk), actor=None)

    job = run(job, on_progress=cancel_at_twenty)

    assert job.status == "cancelled"
    assert not Artifact.objects.filter(job=job).exists()


def test_asking_for_every_family_by_name_is_the_same_job_as_all(network):
    every = "dot,edge,line,grating,curve,colour,colour_contrast"

    by_name = request_tuning(network, families=every)
    by_all = request_tuning(network, families="all")

    assert by_name.pk == by_all.pk
    assert by_all.params["families"] == "all"


def test_families_are_stored_in_one_order(network):
    job = request_tuning(network, families="dot, edge")

    assert job.params["families"] == "edge,dot"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"families": "edges"}, "params.families"),
        ({"families": ""}, "params.families"),
        ({"angle_step": 12.0}, "params.angle_step"),
        ({"scale": 0.0}, "params.scale"),
    ],
)
def test_impossible_tuning_requests_are_refused(network, params, field):
    with pytest.raises(ValidationFailed) as error:
        request_tuning(network, **params)

    assert list(error.value.fields) == [field]


def test_a_unit_that_answers_nothing_says_so_in_its_plot():
    flat = {
        "axes": {"direction": [0.0, 180.0]},
        "responses": [0.0, 0.0],
        "preferred": {"direction": 0.0},
        "peak": 0.0,
        "curve_axis": "direction",
        "curve_values": [0.0, 180.0],
        "curve": [0.0, 0.0],
        "pooled": [],
        "index": "circular_variance",
        "selectivity": None,
    }

    png, svg = tuning_plot({"unit": "conv:0", "baseline": 0.0, "families": {"edge": flat}})

    assert Image.open(io.BytesIO(png)).format == "PNG"
    assert b"no response above blank" in svg


def test_the_job_kind_names_the_engines_families():
    from workers.engine.stimuli import FAMILY_NAMES
    from workers.jobkinds import TUNING_FAMILIES

    assert TUNING_FAMILIES == FAMILY_NAMES


@pytest.fixture
def annotator(api_client, network):
    user = UserFactory()
    link = ProjectNetworkFactory(network=network)
    MembershipFactory(project=link.project, user=user, role=Role.ANNOTATOR)
    api_client.force_authenticate(user)
    return api_client


def test_a_tuning_job_requested_through_the_api_is_shown_on_the_unit_card(annotator):
    response = annotator.post(
        "/api/v1/jobs/",
        {
            "network": "tiny",
            "kind": "tuning",
            "layer": "features.2",
            "units": [5],
            "params": {"families": "dot", "angle_step": 30},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["params"] == {
        "families": "dot",
        "angle_step": 30.0,
        "hue_step": 30.0,
        "scale": 1.0,
        "batch_size": 64,
    }
    job_run(job_id=response.json()["id"])

    card = annotator.get("/api/v1/networks/tiny/units/features.2:5/card/").json()

    (rendering,) = card["renderings"]
    assert rendering["kind"] == "tuning"
    assert [(a["kind"], a["variant"], a["content_type"]) for a in rendering["artifacts"]] == [
        ("unit_image", "tuning", "image/png"),
        ("unit_image", "tuning-svg", "image/svg+xml"),
        ("unit_json", "", "application/json"),
    ]
    assert rendering["artifacts"][2]["meta"]["dot"]["index"] == "peak_selectivity"
    svg = annotator.get(rendering["artifacts"][1]["download_url"])
    assert svg["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(svg.streaming_content)


def test_an_unknown_family_is_refused_by_the_api_with_422(annotator):
    response = annotator.post(
        "/api/v1/jobs/",
        {"network": "tiny", "kind": "tuning", "layer": "features.2", "params": {"families": "x"}},
        format="json",
    )

    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["params.families"]
