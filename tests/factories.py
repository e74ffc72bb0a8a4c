"""factory_boy factories for the domain models."""

import factory
from django.contrib.auth import get_user_model

from projects.models import GenerationTask, Membership, Project, Team


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pass-word-123")


class TeamFactory(factory.django.DjangoModelFactory):
    """A team with $1,000 of credit (teams spend only granted credit, projects/money/ledger.py);
    `TeamFactory(credit_usd=0)` for one with none."""

    class Meta:
        model = Team
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")

    @factory.post_generation
    def credit_usd(team, create, extracted, **kwargs):
        from projects.money.ledger import credit_grant

        amount = 1000 if extracted is None else extracted
        if create and amount:
            credit_grant(
                team=team, amount_micro=int(amount * 1_000_000), actor=None, memo="Test credit."
            )


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.MEMBER


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"Project {n}")
    slug = factory.Sequence(lambda n: f"project-{n}")


class GenerationTaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GenerationTask

    project = factory.SubFactory(ProjectFactory)
    created_by = factory.SubFactory(UserFactory)
    provider = "tokenhub"
    model = "doubao-seedance-2.0"
    prompt = "A lighthouse in a storm, waves crashing, cinematic"
    ratio = "16:9"
    resolution = "720p"
    duration = 5
    status = "pending"
    # The database requires it: every succeeded video is in review, nothing else is.
    review_state = factory.LazyAttribute(
        lambda task: "awaiting" if task.status == "succeeded" else "none"
    )
