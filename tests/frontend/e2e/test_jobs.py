"""Jobs: a render requested from the page runs for real (in a thread standing in for the
Celery worker) while the page polls its progress; a queued job is cancelled from the page."""

import json
import threading

import pytest
from django.db import connection

from annotations.models import Role
from tests.factories.annotations import MembershipFactory, ProjectFactory, ProjectNetworkFactory
from tests.frontend.e2e.artifacts import screenshot
from workers.models import Job
from workers.services import jobs as job_services
from workers.services.job_run import job_run
from workers.services.networks import network_register, network_register_request

pytestmark = pytest.mark.django_db(transaction=True)

WATCH_PROGRESS = """() => {
  window.seenProgress = [];
  new MutationObserver(() => {
    for (const bar of document.querySelectorAll("[role=progressbar]")) {
      const value = Number(bar.getAttribute("aria-valuenow"));
      if (window.seenProgress.at(-1) !== value) window.seenProgress.push(value);
    }
  }).observe(document.querySelector("#job-rows"),
             {subtree: true, childList: true, attributes: true});
}"""


@pytest.fixture
def worker(monkeypatch, settings):
    """Runs the first job requested in a thread, as a worker would; holds any later ones."""
    settings.ATLAS_PROGRESS_MIN_INTERVAL_SECONDS = 0
    settings.ATLAS_RENDER_BATCH_SIZE = 1
    threads, held = [], []

    def run(job_id):
        try:
            job_run(job_id=job_id)
        finally:
            connection.close()

    def enqueue(job_id):
        if threads:
            held.append(job_id)
            return
        thread = threading.Thread(target=run, args=(job_id,), daemon=True)
        threads.append(thread)
        thread.start()

    monkeypatch.setattr(job_services, "_enqueue_after_commit", enqueue)
    yield held
    for thread in threads:
        thread.join(timeout=60)


def test_a_requested_render_runs_with_live_progress_and_a_queued_one_can_be_cancelled(
    browse, worker
):
    project = ProjectFactory(slug="mobile", name="MobileNet")
    network = network_register(name="mobilenet-v2", arch="mobilenet_v2", bundled_weights=True)
    ProjectNetworkFactory(project=project, network=network)
    ada = MembershipFactory(project=project, role=Role.OWNER, user__username="ada").user
    page = browse(ada)
    page.goto("/p/mobile/jobs/")
    page.evaluate(WATCH_PROGRESS)

    page.get_by_label("Layer", exact=True).select_option(label="mobilenet-v2 / features.2 (24)")
    page.get_by_label("Kind", exact=True).select_option("feature_visualization")
    page.get_by_label("Steps", exact=True).fill("24")
    page.get_by_label("Size", exact=True).fill("64")
    page.get_by_label("Units", exact=True).fill("0-7")
    page.get_by_role("button", name="Request job").click()
    done = page.locator("#job-rows tr[data-status=succeeded]")
    done.wait_for(timeout=300_000)  # a real render on the CPU, however loaded
    seen = page.evaluate("window.seenProgress")
    print("JOB_PROGRESS_SEEN", json.dumps(seen))

    job = Job.objects.get(kind="feature_visualization")
    assert (job.status, job.progress, job.params["steps"], job.unit_indices) == (
        "succeeded",
        1.0,
        24,
        list(range(8)),
    )
    assert done.get_by_role("progressbar").get_attribute("aria-valuenow") == "100"
    assert seen[-1] == 100
    assert any(0 < value < 100 for value in seen)
    screenshot(page, "jobs")
    assert done.locator("a").get_attribute("href") == "/p/mobile/grid/mobilenet-v2/features.2/"

    page.get_by_label("Kind", exact=True).select_option("dataset_examples")
    page.get_by_role("button", name="Request job").click()
    queued = page.locator("#job-rows tr[data-status=queued]")
    queued.get_by_role("button", name="Cancel").click()
    page.locator("#job-rows tr[data-status=cancelled]").wait_for()
    assert Job.objects.get(pk=worker[0]).status == "cancelled"


def test_a_networks_inspection_is_listed_with_the_network_and_no_grid_link(browse, monkeypatch):
    monkeypatch.setattr(job_services, "_enqueue_after_commit", lambda job_id, countdown=None: None)
    project = ProjectFactory(slug="mobile", name="MobileNet")
    network, job = network_register_request(name="untrained", arch="mobilenet_v2", random_seed=0)
    ProjectNetworkFactory(project=project, network=network)
    job_run(job_id=job.pk)
    ada = MembershipFactory(project=project, role=Role.OWNER, user__username="ada").user
    page = browse(ada)

    page.goto("/p/mobile/jobs/")

    row = page.locator(f"#job-rows tr[data-job='{job.pk}']")
    row.wait_for()
    assert row.locator("code").inner_text() == "untrained"
    assert row.locator("a").count() == 0
