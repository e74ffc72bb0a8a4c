"""Logging and mail settings (LOGGING, MAILERS), built from a few environment values.

Every log handler passes records through projects.redaction.RedactSecretsFilter: no gateway
key, secret or callback token reaches a log line or an e-mailed report.
"""

from __future__ import annotations

from typing import Any

import environ


def default_mailer(env: environ.Env, *, debug: bool) -> dict[str, Any]:
    """Django 6's default mailer (https://docs.djangoproject.com/en/6.0/topics/email/): SMTP
    at DJANGO_EMAIL_HOST (localhost:25 relays, as Django always assumed, when DEBUG is off);
    under DEBUG without a host, mail is written to the console (`make run`)."""
    host = env.str("DJANGO_EMAIL_HOST", default="" if debug else "localhost")
    if not host:
        return {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    return {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": host,
            "port": env.int("DJANGO_EMAIL_PORT", default=25),
            "username": env.str("DJANGO_EMAIL_USER", default=""),
            "password": env.str("DJANGO_EMAIL_PASSWORD", default=""),
            "use_tls": env.bool("DJANGO_EMAIL_USE_TLS", default=False),
            "timeout": 10,  # seconds
        },
    }


def logging_config(log_format: str, *, level: str) -> dict[str, Any]:
    """LOGGING: console lines in `log_format` (plain or json, projects/logs.py) at `level`,
    error reports by e-mail to ADMINS when DEBUG is off; every handler adds the job's context
    fields and redacts secrets."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "log_context": {"()": "projects.logs.ContextFilter"},
            "redact_secrets": {"()": "projects.redaction.RedactSecretsFilter"},
            "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
        },
        "formatters": {
            "plain": {"()": "projects.logs.PlainFormatter"},
            "json": {"()": "projects.logs.JsonFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["log_context", "redact_secrets"],
            },
            "mail_admins": {
                "class": "django.utils.log.AdminEmailHandler",
                "level": "ERROR",
                "filters": ["require_debug_false", "log_context", "redact_secrets"],
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Replace Django's own handlers on these so their lines are redacted too.
            "django": {"handlers": ["mail_admins"], "level": "INFO", "propagate": True},
            "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
            # At DEBUG it dumps whole template contexts (CSRF tokens, form data) into the log.
            "django.template": {"level": "INFO"},
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
        },
    }
