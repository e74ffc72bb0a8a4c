"""Named, expiring leases between worker processes (which process runs the sweep)."""

from django.db import models


class WorkerLease(models.Model):
    """A lease `name` held by `owner` until `expires_at`; free once expired. Used so that
    exactly SEEDANCE_SWEEPERS due-task sweeps run at any time, however many clusters."""

    name = models.CharField(max_length=64, primary_key=True)
    owner = models.CharField(max_length=100)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} ({self.owner} until {self.expires_at:%H:%M:%S})"
