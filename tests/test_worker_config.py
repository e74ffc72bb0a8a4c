"""The worker's knobs as one typed object (projects/worker_config.py), and the system check
that refuses settings that cannot work."""

from __future__ import annotations

from dataclasses import fields

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from projects.services.poll_schedule import upstream_delay
from projects.worker_config import SETTING_OF, WorkerConfig, worker_config
from tests.factories import GenerationTaskFactory


def test_every_knob_is_a_setting_and_overrides_take_effect_at_once(settings):
    assert set(SETTING_OF) == {f.name for f in fields(WorkerConfig)}
    settings.SEEDANCE_POLL_LEASE = 7.5
    settings.SEEDANCE_SWEEPERS = 3
    config = worker_config()
    assert (config.poll_lease_s, config.sweepers) == (7.5, 3)
    with pytest.raises(AttributeError):
        config.sweepers = 4  # frozen


@pytest.mark.django_db
def test_the_schedule_reads_the_config(settings):
    task = GenerationTaskFactory(provider="tokenhub", expected_render_s=120.0)
    settings.SEEDANCE_POLL_MIN_INTERVAL = 30.0
    # Long after the expected end, a task is asked at the minimum interval or more.
    assert upstream_delay(task=task, age=10_000) >= 30.0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("SEEDANCE_POLL_CONCURRENCY", 0, "SEEDANCE_POLL_CONCURRENCY must be above 0"),
        ("SEEDANCE_POLL_MIN_INTERVAL", 90.0, "must not exceed SEEDANCE_POLL_MAX_INTERVAL"),
        ("SEEDANCE_SUBMIT_LEASE", 2.0, "must outlast a create call"),
    ],
)
def test_impossible_settings_fail_the_system_check(settings, name, value, words):
    call_command("check", "projects")  # the defaults pass
    setattr(settings, name, value)
    with pytest.raises(SystemCheckError, match=words):
        call_command("check", "projects")
