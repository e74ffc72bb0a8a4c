# ruff: noqa: B018  (a vulture allowlist is bare names by design)
"""Names vulture cannot see used (scripts/deadcode.sh): classes and functions that settings,
Django or the standard library reach by a dotted path or by a fixed method name."""

from projects import (
    apps,
    cache,
    error_reports,
    logs,
    ratelimits,
    redaction,
    session_limits,
    storage,
    tasks,
    uploads,
)
from projects.api import callbacks as api_callbacks
from projects.api import errors as api_errors
from projects.api.endpoints import KeyAuth
from projects.api.forms import ProjectChoice
from projects.generation_form import GenerationForm
from projects.models.api_keys import ApiKeyManager
from projects.providers import acedata, alltoken, byteplus, seedance2ink, tokenhub
from seedance_web import admin
from seedance_web import apps as site_apps
from tests import stubs

# Named in seedance_web/settings.py (INSTALLED_APPS, MIDDLEWARE, LOGGING, STORAGES, CACHES,
# FILE_UPLOAD_HANDLERS, DEFAULT_EXCEPTION_REPORTER*, RATELIMIT_IP_META_KEY, SEEDANCE_PROVIDERS).
apps.ProjectsConfig
site_apps.SeedanceAdminConfig
admin.SeedanceAdminSite
cache.AtomicDatabaseCache
error_reports.SecretSafeExceptionReporterFilter
error_reports.SecretSafeExceptionReporter
logs.ContextFilter
logs.JsonFormatter
logs.PlainFormatter
ratelimits.client_ip
redaction.RedactSecretsFilter
redaction.RequestSecretsMiddleware
session_limits.SessionLimitsMiddleware
storage.MediaS3Storage
uploads.LimitedUploadHandler
acedata.AceDataProvider
alltoken.AllTokenProvider
byteplus.BytePlusProvider
seedance2ink.Seedance2InkProvider
tokenhub.TokenHubProvider
# Named in tests' provider settings.
stubs.PortraitGatewayStub
# Read by templates/projects/generation_form.html.
GenerationForm.reference_blocks
# The team API (projects/api/): a job reached by its dotted path, the middleware named in
# settings, and what django-ninja, Django forms and djangorestframework-api-key call by name.
api_callbacks.api_callback_deliver
api_errors.ApiErrorsMiddleware
KeyAuth.authenticate
ProjectChoice.label_from_instance
ApiKeyManager.assign_key

# Enqueued by dotted path (projects/services/cuts.py ASSEMBLE_JOB).
tasks.storyboard_cut_assemble
# Scheduled by dotted path (management/commands/setup_schedules.py).
tasks.notifications_review_digest
tasks.notifications_deliver_due
