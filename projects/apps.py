from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    """The domain app: teams, projects, assets, generation tasks, and their ledger."""

    name = "projects"
    verbose_name = "Seedance studio"

    def ready(self) -> None:
        from projects import checks  # noqa: F401  (registers the system checks)
