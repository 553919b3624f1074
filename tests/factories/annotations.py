import json

import factory
from django.contrib.auth import get_user_model

from annotations.formats.markdown import render_markdown
from annotations.models import (
    Assignment,
    Circuit,
    Comment,
    Event,
    Group,
    Hypothesis,
    HypothesisUnit,
    Membership,
    Notification,
    Project,
    ProjectNetwork,
    Review,
    Role,
    Webhook,
    WebhookDelivery,
)
from annotations.services.unit_counts import unit_counts_add
from tests.factories.workers import LayerFactory, NetworkFactory

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password(PASSWORD)


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    slug = factory.Sequence(lambda n: f"project-{n}")
    name = factory.Sequence(lambda n: f"Project {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.VIEWER


class ProjectNetworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProjectNetwork

    project = factory.SubFactory(ProjectFactory)
    network = factory.SubFactory(NetworkFactory)


class CommentFactory(factory.django.DjangoModelFactory):
    """A thread's first comment on a circuit; pass ``parent`` for a reply on its target."""

    class Meta:
        model = Comment
        skip_postgeneration_save = True

    parent = None
    project = factory.Maybe(
        "parent", factory.SelfAttribute("parent.project"), factory.SubFactory(ProjectFactory)
    )
    target_type = factory.Maybe(
        "parent", factory.SelfAttribute("parent.target_type"), Comment.TargetType.CIRCUIT
    )
    target_id = factory.Maybe(
        "parent", factory.SelfAttribute("parent.target_id"), factory.Sequence(lambda n: n + 1)
    )
    target_label = factory.LazyAttribute(lambda comment: f"#{comment.target_id}")
    root_id = factory.LazyAttribute(
        lambda comment: comment.parent and comment.parent.thread_root_id
    )
    author = factory.SubFactory(UserFactory)
    body = "Looks like a curve detector."
    body_html = factory.LazyAttribute(lambda comment: render_markdown(comment.body))

    @factory.post_generation
    def counted(comment, create, extracted, **kwargs):
        """A standing comment on a unit counts in the layer grid, as ``comment_post`` keeps it."""
        if create and comment.target_type == Comment.TargetType.UNIT and not comment.deleted_at:
            unit_counts_add(project_id=comment.project_id, unit_ids=[comment.target_id], comments=1)


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    recipient = factory.SubFactory(UserFactory)
    project = factory.SubFactory(ProjectFactory)
    actor = factory.SubFactory(UserFactory)
    kind = Notification.Kind.MENTION
    target_type = "comment"
    target_id = factory.Sequence(lambda n: n + 1)
    text = factory.LazyAttribute(lambda n: f"{n.actor.username} mentioned you on circuit #1")


class HypothesisFactory(factory.django.DjangoModelFactory):
    """An open hypothesis about no units yet, on a network its project studies."""

    class Meta:
        model = Hypothesis

    project = factory.SubFactory(ProjectFactory)
    network = factory.LazyAttribute(
        lambda hypothesis: ProjectNetworkFactory(project=hypothesis.project).network
    )
    author = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Curve detectors {n}")
    text = "They respond to curves of one orientation."


class HypothesisUnitFactory(factory.django.DjangoModelFactory):
    """A unit of the hypothesis' network (the first of a new layer unless given)."""

    class Meta:
        model = HypothesisUnit
        skip_postgeneration_save = True

    hypothesis = factory.SubFactory(HypothesisFactory)
    unit = factory.LazyAttribute(
        lambda row: LayerFactory(network=row.hypothesis.network).units.first()
    )

    @factory.post_generation
    def counted(row, create, extracted, **kwargs):
        """An open hypothesis counts in the layer grid, as the hypothesis services keep it."""
        if create and row.hypothesis.status == Hypothesis.Status.OPEN:
            unit_counts_add(
                project_id=row.hypothesis.project_id, unit_ids=[row.unit_id], open_hypotheses=1
            )


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    hypothesis = factory.SubFactory(HypothesisFactory)
    reviewer = factory.SubFactory(UserFactory)
    verdict = Review.Verdict.APPROVE
    version = factory.SelfAttribute("hypothesis.version")


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"Group {n}")


class AssignmentFactory(factory.django.DjangoModelFactory):
    """A unit in a group; the unit is the first of a new layer of a network the project
    studies unless given."""

    class Meta:
        model = Assignment

    group = factory.SubFactory(GroupFactory)
    project = factory.SelfAttribute("group.project")
    unit = factory.LazyAttribute(
        lambda row: LayerFactory(
            network=ProjectNetworkFactory(project=row.project).network
        ).units.first()
    )


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    project = factory.SubFactory(ProjectFactory)
    actor = factory.SubFactory(UserFactory)
    verb = "group.created"
    target_type = "group"
    target_id = factory.Sequence(lambda n: n + 1)
    target_label = factory.LazyAttribute(lambda event: f"#{event.target_id}")


class CircuitFactory(factory.django.DjangoModelFactory):
    """A circuit on a new network the project studies unless given."""

    class Meta:
        model = Circuit

    project = factory.SubFactory(ProjectFactory)
    network = factory.LazyAttribute(lambda row: ProjectNetworkFactory(project=row.project).network)
    name = factory.Sequence(lambda n: f"Circuit {n}")


class WebhookFactory(factory.django.DjangoModelFactory):
    """An active hook for every event type; give ``url`` (a test's receiver)."""

    class Meta:
        model = Webhook

    project = factory.SubFactory(ProjectFactory)
    url = "http://127.0.0.1:9/hook"
    event_types = factory.LazyFunction(lambda: list(Webhook.EventType.values))
    secret = factory.Sequence(lambda n: f"whsec_test_{n}")


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    """A pending delivery of a ``release.made`` event."""

    class Meta:
        model = WebhookDelivery

    webhook = factory.SubFactory(WebhookFactory)
    event_type = Webhook.EventType.RELEASE_MADE
    body = factory.Sequence(
        lambda n: json.dumps({"id": f"event-{n}", "type": "release.made", "data": {"n": n}})
    )
