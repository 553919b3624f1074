"""Events out of the app through the settings page: a member's e-mail choice, and an owner's
webhook with its signing secret, delivery log and redeliver button."""

import pytest

from annotations import tasks
from annotations.models import EmailPreference, Role, Webhook, WebhookDelivery
from tests.factories.annotations import MembershipFactory, ProjectFactory, WebhookDeliveryFactory
from tests.frontend.e2e.artifacts import screenshot

pytestmark = pytest.mark.django_db(transaction=True)


class DeliveryRecorder:
    def __init__(self):
        self.ids = []

    def delay(self, delivery_id):
        self.ids.append(delivery_id)


@pytest.fixture
def sent(monkeypatch):
    recorder = DeliveryRecorder()
    monkeypatch.setattr(tasks, "deliver_webhook", recorder)
    return recorder.ids


@pytest.fixture
def project():
    return ProjectFactory(slug="early-vision", name="Early vision")


def test_a_member_chooses_the_daily_digest(browse, project):
    member = MembershipFactory(project=project, role=Role.ANNOTATOR, user__username="grace").user
    page = browse(member)
    page.goto("/p/early-vision/settings/")
    page.wait_for_selector("#settings-page[data-ready=true]")

    page.get_by_label("E-mail me mentions, reviews and review requests").select_option("daily")
    page.get_by_role("button", name="Save e-mail choice").click()
    page.locator("#status", has_text="E-mail notifications: daily.").wait_for()

    assert EmailPreference.objects.get(user=member).mode == "daily"
    assert page.locator("#webhook-form").count() == 0


def test_an_owner_adds_a_webhook_sees_its_secret_and_redelivers(browse, project, sent):
    owner = MembershipFactory(project=project, role=Role.OWNER, user__username="ada").user
    page = browse(owner)
    page.goto("/p/early-vision/settings/")
    page.wait_for_selector("#settings-page[data-ready=true]")

    page.get_by_label("Webhook URL").fill("https://hooks.example.org/atlas")
    page.locator("input[name=event_types][value='release.made']").check()
    page.get_by_role("button", name="Add webhook").click()
    page.locator("#webhook-secret:not([hidden])").wait_for()
    webhook = Webhook.objects.get()
    assert page.locator("#webhook-secret code").text_content() == webhook.secret
    assert webhook.event_types == ["release.made"]

    failed = WebhookDeliveryFactory(
        webhook=webhook, status=WebhookDelivery.Status.FAILED, attempts=5, last_error="HTTP 500"
    )
    page.get_by_role("button", name="Deliveries of https://hooks.example.org/atlas").click()
    page.locator(f"tr[data-delivery='{failed.pk}'][data-status=failed]").wait_for()
    page.get_by_role("button", name=f"Redeliver delivery {failed.pk}").click()
    page.locator("tr[data-status=pending]").wait_for()
    screenshot(page, "settings-webhooks")

    again = WebhookDelivery.objects.exclude(pk=failed.pk).get()
    assert (again.body, again.status) == (failed.body, WebhookDelivery.Status.PENDING)
    assert sent == [again.pk]
