"""System checks (`manage.py check`, run by runserver, migrate and the deploy check): the
worker's knobs (projects/worker_config.py) must be able to work."""

from __future__ import annotations

from django.core import checks

from projects.worker_config import worker_config, worker_config_problems


@checks.register()
def worker_settings_check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """An error per impossible worker setting (projects.E001)."""
    return [
        checks.Error(problem, id="projects.E001")
        for problem in worker_config_problems(worker_config())
    ]
