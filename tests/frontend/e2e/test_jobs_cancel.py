"""The jobs table: Cancel offered only to those the policy allows, never a click lost while
the rows update, and each job's times and actual device."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from annotations.models import Role
from tests.factories.annotations import (
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
    UserFactory,
)
from tests.factories.workers import JobFactory, LayerFactory, NetworkFactory
from tests.frontend.e2e.artifacts import screenshot
from workers.models import Job

pytestmark = pytest.mark.django_db(transaction=True)

CANCEL_BUTTONS_SHOWN = """() => [...document.querySelectorAll("#job-rows tr")]
  .filter((row) => { const b = row.querySelector("button"); return b && !b.hidden; })
  .map((row) => Number(row.dataset.job))"""


@pytest.fixture
def layer():
    network = NetworkFactory(name="mobilenet-v2")
    project = ProjectFactory(slug="mobile", name="MobileNet")
    ProjectNetworkFactory(project=project, network=network)
    layer = LayerFactory(network=network, name="features.2", channels=24, order=4)
    layer.project = project
    return layer


def member(layer, role, username):
    return MembershipFactory(project=layer.project, role=role, user__username=username).user


@pytest.fixture
def progressing(layer):
    """A running job whose progress a worker stand-in moves on until the test ends, so the
    page keeps polling and updating its rows."""
    job = JobFactory(
        layer=layer,
        kind=Job.Kind.FEATURE_VISUALIZATION,
        status=Job.Status.RUNNING,
        started_at=timezone.now(),
        device="cpu",
        params={"objective": "neuron", "steps": 512, "size": 128, "seed": 3},
    )
    stop = threading.Event()

    def advance():
        step = 0
        try:
            while not stop.wait(0.05):
                step = (step + 1) % 512
                Job.objects.filter(pk=job.pk).update(
                    progress=step / 512, progress_message=f"step {step} of 512 · batch 1 of 1"
                )
        finally:
            connection.close()

    thread = threading.Thread(target=advance, daemon=True)
    thread.start()
    yield job
    stop.set()
    thread.join(timeout=10)


def test_cancel_is_offered_only_to_the_jobs_owner_and_reviewers(browse, layer):
    others = JobFactory(layer=layer, created_by=UserFactory())
    annotator = member(layer, Role.ANNOTATOR, "ann")
    own = JobFactory(layer=layer, created_by=annotator)
    owner = member(layer, Role.OWNER, "ada")
    viewer = member(layer, Role.VIEWER, "vic")

    shown = {}
    for user in (owner, annotator, viewer):
        page = browse(user)
        page.goto("/p/mobile/jobs/")
        page.wait_for_selector("#jobs-page[data-ready=true]")
        shown[user.username] = sorted(page.evaluate(CANCEL_BUTTONS_SHOWN))

    assert shown == {"ada": sorted([others.pk, own.pk]), "ann": [own.pk], "vic": []}


def test_no_cancel_click_is_lost_while_the_rows_update(browse, layer, progressing):
    queued = [JobFactory(layer=layer, created_by=UserFactory()) for _ in range(10)]
    page = browse(member(layer, Role.OWNER, "ada"))
    page.goto("/p/mobile/jobs/")
    page.wait_for_selector("#jobs-page[data-ready=true]")
    page.locator(f"#job-rows tr[data-job='{progressing.pk}'] .progress-text").filter(
        has_text="step"
    ).wait_for()

    for job in queued:
        page.get_by_role("button", name=f"Cancel job {job.pk}", exact=True).click()

    for job in queued:
        page.locator(f"#job-rows tr[data-job='{job.pk}'][data-status=cancelled]").wait_for()
    assert sorted(Job.objects.filter(status="cancelled").values_list("pk", flat=True)) == sorted(
        job.pk for job in queued
    )
    assert Job.objects.get(pk=progressing.pk).status == "running"


def test_each_job_shows_its_times_its_device_and_the_time_left(browse, layer, progressing):
    started = timezone.now() - timedelta(minutes=3)
    finished = JobFactory(
        layer=layer,
        kind=Job.Kind.DATASET_EXAMPLES,
        status=Job.Status.SUCCEEDED,
        progress=1.0,
        device="cuda:0",
        started_at=started,
        finished_at=started + timedelta(seconds=95),
        params={"dataset": "demo", "k": 10, "crop_size": 64},
    )
    page = browse(member(layer, Role.VIEWER, "vic"))

    page.goto("/p/mobile/jobs/")
    page.wait_for_selector("#jobs-page[data-ready=true]")

    head = page.locator(".page-head").inner_text()
    assert "Renders run on the GPU workers" not in head
    done = page.locator(f"#job-rows tr[data-job='{finished.pk}']")
    assert done.locator("td.device").inner_text() == "cuda:0"
    assert "took 1 min 35 s" in done.locator("td.times").inner_text()
    assert "dataset demo · 10 per unit" in done.inner_text()
    running = page.locator(f"#job-rows tr[data-job='{progressing.pk}']")
    assert running.locator("td.device").inner_text() == "cpu"
    assert "neuron · 512 steps · 128 px · seed 3" in running.inner_text()
    running.locator("td.times", has_text="left").wait_for()
    assert "elapsed" in running.locator("td.times").inner_text()
    screenshot(page, "jobs-times")
