"""Mention and review notifications by e-mail: off, immediate, daily digest (Django's test
outbox)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from annotations import tasks
from annotations.models import EmailPreference, Notification, Role
from annotations.services.comments import comment_post
from annotations.services.emails import email_digests_send, email_preference_set
from annotations.services.hypotheses import hypothesis_create
from annotations.services.reviews import review_submit
from server.errors import Unprocessable
from tests.factories.annotations import (
    CircuitFactory,
    MembershipFactory,
    NotificationFactory,
    ProjectFactory,
    ProjectNetworkFactory,
)
from tests.factories.workers import LayerFactory

pytestmark = pytest.mark.django_db

Mode = EmailPreference.Mode


class EagerEmails:
    """Stands in for the ``send_notification_email`` task: runs it at once (``apply``)."""

    def __init__(self, task):
        self.task = task
        self.ids = []

    def delay(self, notification_id):
        self.ids.append(notification_id)
        self.task.apply(args=[notification_id])


@pytest.fixture(autouse=True)
def queued(monkeypatch):
    eager = EagerEmails(tasks.send_notification_email)
    monkeypatch.setattr(tasks, "send_notification_email", eager)
    return eager.ids


@pytest.fixture
def project():
    project = ProjectFactory(slug="curves", name="Curves")
    CircuitFactory(project=project, pk=7, name="#7")
    return project


@pytest.fixture
def ada(project):
    return MembershipFactory(project=project, user__username="ada", role=Role.ANNOTATOR).user


@pytest.fixture
def rev(project):
    return MembershipFactory(
        project=project, user__username="rev", user__email="rev@example.org", role=Role.REVIEWER
    ).user


def _mention(project, actor, body="@rev is this a curve?", capture=None):
    with capture(execute=True):
        return comment_post(
            project=project, target_type="circuit", target_id="7", body=body, actor=actor
        )


def test_an_immediate_user_gets_one_email_per_mention_after_commit(
    project, ada, rev, django_capture_on_commit_callbacks
):
    email_preference_set(user=rev, mode=Mode.IMMEDIATE, actor=rev)

    comment = _mention(project, ada, capture=django_capture_on_commit_callbacks)

    (message,) = mail.outbox
    assert message.to == ["rev@example.org"]
    assert message.subject == "[Neuron Atlas] Curves: ada mentioned you on circuit #7"
    assert message.body == (
        "ada mentioned you on circuit #7\n\n"
        "Project: Curves\n"
        f"Open it: http://127.0.0.1:8000/p/curves/comments/{comment.pk}/\n\n"
        "You receive these e-mails because of your notification settings in Neuron Atlas."
    )
    assert Notification.objects.get(recipient=rev).emailed_at is not None


def test_no_email_is_sent_before_the_commit(project, ada, rev, django_capture_on_commit_callbacks):
    email_preference_set(user=rev, mode=Mode.IMMEDIATE, actor=rev)

    with django_capture_on_commit_callbacks(execute=False):
        comment_post(
            project=project, target_type="circuit", target_id="7", body="@rev hi", actor=ada
        )

    assert mail.outbox == []


def test_a_user_who_chose_off_gets_no_email(project, ada, rev, django_capture_on_commit_callbacks):
    email_preference_set(user=rev, mode=Mode.OFF, actor=rev)

    _mention(project, ada, capture=django_capture_on_commit_callbacks)
    email_digests_send()

    assert mail.outbox == []
    assert Notification.objects.get(recipient=rev).emailed_at is None


def test_a_user_who_never_chose_gets_no_email(
    project, ada, rev, queued, django_capture_on_commit_callbacks
):
    _mention(project, ada, capture=django_capture_on_commit_callbacks)
    email_digests_send()

    assert mail.outbox == []
    assert queued == []


def test_a_reply_is_not_emailed(project, ada, rev, django_capture_on_commit_callbacks):
    email_preference_set(user=rev, mode=Mode.IMMEDIATE, actor=rev)
    first = comment_post(
        project=project, target_type="circuit", target_id="7", body="Curves?", actor=rev
    )

    with django_capture_on_commit_callbacks(execute=True):
        comment_post(
            project=project,
            target_type="circuit",
            target_id="7",
            body="Yes.",
            parent=first,
            actor=ada,
        )

    assert Notification.objects.get(recipient=rev).kind == Notification.Kind.REPLY
    assert mail.outbox == []


def test_a_review_of_my_hypothesis_is_emailed_at_once(
    project, ada, rev, django_capture_on_commit_callbacks
):
    ada.email = "ada@example.org"
    ada.save()
    email_preference_set(user=ada, mode=Mode.IMMEDIATE, actor=ada)
    layer = LayerFactory(network__name="inceptionv1", name="mixed3b", channels=4)
    ProjectNetworkFactory(project=project, network=layer.network)
    hypothesis = hypothesis_create(
        project=project, network=layer.network, title="Curves", units=["mixed3b:1"], actor=ada
    )

    with django_capture_on_commit_callbacks(execute=True):
        review_submit(
            hypothesis=hypothesis, expected_version=1, verdict="request_changes", actor=rev
        )

    (message,) = mail.outbox
    assert (message.to, message.subject) == (
        ["ada@example.org"],
        "[Neuron Atlas] Curves: rev requested changes on “Curves”",
    )


def test_a_notification_is_emailed_once_when_its_task_runs_twice(
    project, ada, rev, queued, django_capture_on_commit_callbacks
):
    email_preference_set(user=rev, mode=Mode.IMMEDIATE, actor=rev)
    _mention(project, ada, capture=django_capture_on_commit_callbacks)

    tasks.send_notification_email.task.apply(args=[queued[0]])

    assert len(mail.outbox) == 1


def test_a_daily_user_gets_nothing_at_once_and_one_digest_of_everything(
    project, ada, rev, queued, django_capture_on_commit_callbacks
):
    email_preference_set(user=rev, mode=Mode.DAILY, actor=rev)
    first = _mention(project, ada, capture=django_capture_on_commit_callbacks)
    second = _mention(
        project, ada, "@rev and this one?", capture=django_capture_on_commit_callbacks
    )
    at_once = list(mail.outbox)

    sent = email_digests_send()

    assert (at_once, queued, sent) == ([], [], 1)
    (message,) = mail.outbox
    assert (message.to, message.subject) == (
        ["rev@example.org"],
        "[Neuron Atlas] 2 notifications today",
    )
    assert message.body == (
        "Hello rev,\n\nSince the last digest:\n\n"
        "- Curves: ada mentioned you on circuit #7\n"
        f"  http://127.0.0.1:8000/p/curves/comments/{first.pk}/\n"
        "- Curves: ada mentioned you on circuit #7\n"
        f"  http://127.0.0.1:8000/p/curves/comments/{second.pk}/\n\n"
        "You receive these e-mails because of your notification settings in Neuron Atlas."
    )


def test_the_next_digest_does_not_repeat_what_was_sent(
    project, ada, rev, django_capture_on_commit_callbacks
):
    email_preference_set(user=rev, mode=Mode.DAILY, actor=rev)
    _mention(project, ada, capture=django_capture_on_commit_callbacks)
    email_digests_send()

    sent = email_digests_send()

    assert sent == 0
    assert len(mail.outbox) == 1


def test_the_digest_leaves_out_what_was_read_and_what_is_older_than_a_week(project, rev):
    email_preference_set(user=rev, mode=Mode.DAILY, actor=rev)
    now = timezone.now()
    NotificationFactory(recipient=rev, project=project, read_at=now)
    old = NotificationFactory(recipient=rev, project=project)
    Notification.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=8))
    fresh = NotificationFactory(recipient=rev, project=project, text="fresh one")

    email_digests_send(now=now)

    (message,) = mail.outbox
    assert message.subject == "[Neuron Atlas] 1 notification today"
    assert "- Curves: fresh one\n" in message.body
    assert Notification.objects.filter(emailed_at__isnull=False).get() == fresh


def test_e_mails_need_an_address(ada):
    ada.email = ""
    ada.save()

    with pytest.raises(Unprocessable) as raised:
        email_preference_set(user=ada, mode=Mode.DAILY, actor=ada)

    assert raised.value.code == "no_email"
    assert EmailPreference.objects.count() == 0


def test_the_daily_digest_is_on_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["send-email-digests"]

    assert entry["task"] == "annotations.tasks.send_email_digests"
    assert entry["task"] == tasks.send_email_digests.name


def test_a_review_request_is_emailed_to_a_reviewer_who_chose_immediate(
    project, ada, rev, django_capture_on_commit_callbacks
):
    layer = LayerFactory(network__name="inceptionv1", name="mixed3b", channels=4)
    ProjectNetworkFactory(project=project, network=layer.network)
    email_preference_set(user=rev, mode=Mode.IMMEDIATE, actor=rev)

    with django_capture_on_commit_callbacks(execute=True):
        hypothesis = hypothesis_create(
            project=project,
            network=layer.network,
            title="Curve detectors",
            text="They respond to curves.",
            units=["mixed3b:1"],
            actor=ada,
        )

    (message,) = mail.outbox
    assert message.to == ["rev@example.org"]
    assert message.subject == (
        f"[Neuron Atlas] Curves: ada asks for your review of hypothesis #{hypothesis.pk}: "
        "Curve detectors"
    )
