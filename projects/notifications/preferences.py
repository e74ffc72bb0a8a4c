"""Which events a member hears of by e-mail: defaults, and the choices they saved.

A member without a saved choice for an event gets DEFAULTS[event]. An event only reaches
those it concerns (the maker of a video, the team's reviewers, its admins: outbox.py), so
"on" for "a video awaits my review" means nothing to a member who reviews nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from projects.models import Event, NotificationPreference

DEFAULTS: dict[str, bool] = {
    Event.VIDEO_READY: True,
    Event.VIDEO_FAILED: True,
    Event.REVIEW_WAITING: True,
    Event.VIDEO_APPROVED: True,
    Event.VIDEO_REJECTED: True,
    Event.BUDGET_80: True,
    Event.BUDGET_EXHAUSTED: True,
}


def email_choices(*, user: AbstractBaseUser) -> dict[str, bool]:
    """{event: e-mail on?} for every event, the user's saved choice or the default."""
    saved = dict(NotificationPreference.objects.filter(user=user).values_list("event", "email"))
    return {event: saved.get(event, DEFAULTS[event]) for event in Event.values}


def email_wanted(*, user_ids: Iterable[object], event: str) -> set[object]:
    """The ids among `user_ids` who get an e-mail for this one `event` now (default or
    saved choice; not those who chose the daily digest of REVIEW_WAITING)."""
    ids = set(user_ids)
    if not ids:
        return set()
    saved = {
        pk: email and not digest
        for pk, email, digest in NotificationPreference.objects.filter(
            user_id__in=ids, event=event
        ).values_list("user_id", "email", "digest")
    }
    return {pk for pk in ids if saved.get(pk, DEFAULTS[event])}


def review_digest(*, user: AbstractBaseUser) -> bool:
    """Whether `user` chose one e-mail a day for videos awaiting review."""
    return NotificationPreference.objects.filter(
        user=user, event=Event.REVIEW_WAITING, email=True, digest=True
    ).exists()


def review_digest_save(*, user: AbstractBaseUser, digest: bool) -> None:
    """Choose one e-mail a day (`digest`) or one per video for REVIEW_WAITING; keeps the
    on/off choice."""
    pref, _ = NotificationPreference.objects.get_or_create(
        user=user,
        event=Event.REVIEW_WAITING,
        defaults={"email": DEFAULTS[Event.REVIEW_WAITING]},
    )
    if pref.digest != digest:
        pref.digest = digest
        pref.save(update_fields=["digest", "updated_at"])


def email_choices_save(*, user: AbstractBaseUser, choices: Mapping[str, bool]) -> None:
    """Save `user`'s {event: e-mail on?}; an event not named keeps its current choice.
    Raises ValueError for an unknown event name."""
    unknown = set(choices) - set(Event.values)
    if unknown:
        raise ValueError(f"Unknown events: {sorted(unknown)}")
    with transaction.atomic():
        for event, on in choices.items():
            NotificationPreference.objects.update_or_create(
                user=user, event=event, defaults={"email": bool(on)}
            )
