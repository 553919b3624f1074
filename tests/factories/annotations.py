import factory
from django.contrib.auth import get_user_model

from annotations.models import Membership, Project, ProjectNetwork, Role
from tests.factories.workers import NetworkFactory

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
