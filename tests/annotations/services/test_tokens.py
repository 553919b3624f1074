import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from annotations.models import ApiToken
from annotations.selectors.tokens import token_get_for_user, tokens_of
from annotations.services import tokens as token_services
from annotations.services.tokens import token_create, token_issue, token_revoke, token_rotate
from server.errors import AuthenticationFailed, Conflict, NotFound, ValidationFailed
from tests.factories.annotations import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_token_create_keeps_only_a_digest_of_the_secret():
    issued = token_create(actor=UserFactory(), name="notebook")

    stored = ApiToken.objects.get()
    assert stored.digest == hashlib.sha512(issued.secret.encode()).hexdigest()
    assert stored.token_key == issued.secret[:15]
    assert issued.secret not in {stored.digest, stored.token_key, stored.name}


def test_token_create_expires_after_the_configured_days_by_default(settings):
    settings.ATLAS_TOKEN_TTL_DAYS = 30
    before = timezone.now()

    token = token_create(actor=UserFactory(), name="notebook").token

    assert before + timedelta(days=30) <= token.expiry <= timezone.now() + timedelta(days=30)


def test_token_create_takes_a_shorter_life_per_token():
    before = timezone.now()

    token = token_create(actor=UserFactory(), name="ci", expires_in_days=7).token

    assert before + timedelta(days=7) <= token.expiry <= timezone.now() + timedelta(days=7)


def test_token_create_refuses_a_life_longer_than_the_configured_days(settings):
    settings.ATLAS_TOKEN_TTL_DAYS = 30

    with pytest.raises(ValidationFailed) as raised:
        token_create(actor=UserFactory(), name="forever", expires_in_days=31)

    assert raised.value.fields == {"expires_in_days": ["A whole number of days from 1 to 30."]}
    assert not ApiToken.objects.exists()


def test_token_create_refuses_past_the_live_token_limit(monkeypatch):
    monkeypatch.setattr(token_services, "MAX_LIVE_TOKENS", 2)
    user = UserFactory()
    token_create(actor=user, name="one")
    token_create(actor=user, name="two")

    with pytest.raises(Conflict) as raised:
        token_create(actor=user, name="three")

    assert raised.value.code == "too_many_tokens"
    assert sorted(ApiToken.objects.values_list("name", flat=True)) == ["one", "two"]


def test_token_create_clears_the_actors_expired_tokens():
    user = UserFactory()
    expired = token_create(actor=user, name="old").token
    ApiToken.objects.filter(pk=expired.pk).update(expiry=timezone.now() - timedelta(seconds=1))

    token_create(actor=user, name="new")

    assert list(ApiToken.objects.values_list("name", flat=True)) == ["new"]


def test_token_issue_gives_a_new_token_each_time():
    UserFactory(username="olah")

    first = token_issue(username="olah", password=PASSWORD)
    again = token_issue(username="olah", password=PASSWORD)

    assert first.secret != again.secret
    assert ApiToken.objects.count() == 2


def test_token_issue_at_the_limit_replaces_the_oldest_sign_in_token_only(monkeypatch):
    monkeypatch.setattr(token_services, "MAX_LIVE_TOKENS", 3)
    user = UserFactory(username="olah")
    ci = token_create(actor=user, name="ci").token
    oldest = token_issue(username="olah", password=PASSWORD).token
    newer = token_issue(username="olah", password=PASSWORD).token

    newest = token_issue(username="olah", password=PASSWORD).token

    assert sorted(ApiToken.objects.values_list("pk", flat=True)) == sorted(
        [ci.pk, newer.pk, newest.pk]
    )
    assert not ApiToken.objects.filter(pk=oldest.pk).exists()


def test_token_issue_refuses_a_wrong_password_without_creating_a_token():
    UserFactory(username="olah")

    with pytest.raises(AuthenticationFailed) as raised:
        token_issue(username="olah", password="wrong")

    assert (raised.value.code, raised.value.detail) == (
        "invalid_credentials",
        "Unable to sign in with the given username and password.",
    )
    assert not ApiToken.objects.exists()


def test_token_issue_refuses_an_inactive_user():
    UserFactory(username="olah", is_active=False)

    with pytest.raises(AuthenticationFailed):
        token_issue(username="olah", password=PASSWORD)

    assert not ApiToken.objects.exists()


def test_token_revoke_deletes_only_that_token():
    user = UserFactory()
    kept = token_create(actor=user, name="kept").token
    revoked = token_create(actor=user, name="revoked").token

    token_revoke(token=revoked, actor=user)

    assert list(ApiToken.objects.all()) == [kept]


def test_token_revoke_leaves_another_users_token():
    token = token_create(actor=UserFactory(), name="theirs").token

    token_revoke(token=token, actor=UserFactory())

    assert list(ApiToken.objects.all()) == [token]


def test_tokens_of_lists_the_users_live_tokens_newest_first():
    user = UserFactory()
    first = token_create(actor=user, name="first").token
    second = token_create(actor=user, name="second").token
    expired = token_create(actor=user, name="expired").token
    ApiToken.objects.filter(pk=expired.pk).update(expiry=timezone.now())
    token_create(actor=UserFactory(), name="theirs")

    assert list(tokens_of(user=user)) == [second, first]


def test_token_get_for_user_hides_another_users_token_as_not_found():
    token = token_create(actor=UserFactory(), name="theirs").token

    with pytest.raises(NotFound):
        token_get_for_user(user=UserFactory(), token_id=token.pk)


def test_token_rotate_replaces_the_actors_tokens_of_that_name_only():
    user = UserFactory()
    token_create(actor=user, name="demo")
    kept = token_create(actor=user, name="laptop").token
    theirs = token_create(actor=UserFactory(), name="demo").token

    rotated = token_rotate(actor=user, name="demo").token

    assert sorted(ApiToken.objects.values_list("pk", flat=True)) == sorted(
        [kept.pk, theirs.pk, rotated.pk]
    )
