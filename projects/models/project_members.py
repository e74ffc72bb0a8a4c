"""Project-level membership: who may see a restricted project besides the team's admins."""

from django.conf import settings
from django.db import models


class ProjectMember(models.Model):
    """A team member listed on a project. It matters only while `Project.restricted` is set:
    then listed members (with their team role) and the team's admins see the project, and
    nobody else in the team does (projects/access.py)."""

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="members"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_memberships"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="project_member_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.project}"
