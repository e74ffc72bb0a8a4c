"""`manage.py check --deploy` under production settings reports nothing.

Production settings are the real settings module with production environment variables
(docs in .env.example), run in a fresh process as a deployment would.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SEEDANCE_", "PYTEST", "TOKENHUB_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="seedance_web.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="studio.example.com",
        DJANGO_SECURE_SSL_REDIRECT="1",
        DJANGO_SECURE_HSTS_SECONDS="31536000",
        SITE_URL="https://studio.example.com",
        SEEDANCE_VAR_DIR=str(tmp_path),
        TOKENHUB_API_KEY="th-production-key-000",
    )
    env.update(extra)
    return env


def run_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = run_check(production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


def test_check_deploy_is_clean_with_redis_as_the_cache(tmp_path):
    result = run_check(production_env(tmp_path, REDIS_URL="redis://127.0.0.1:6379/0"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_catches_a_development_setup(tmp_path):
    # The test above must be able to fail: the development defaults are not deployable.
    env = production_env(tmp_path, DJANGO_DEBUG="1", DJANGO_SECURE_HSTS_SECONDS="0")
    result = run_check(env)
    assert result.returncode != 0
    assert "security.W018" in result.stderr + result.stdout  # DEBUG
    assert "security.W004" in result.stderr + result.stdout  # HSTS


def print_secret(env: dict[str, str]) -> subprocess.CompletedProcess:
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_public_site_without_a_secret_key_refuses_to_start(tmp_path):
    env = production_env(tmp_path)
    del env["DJANGO_SECRET_KEY"]
    result = print_secret(env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set for a site served at https://studio.example.com" in (
        result.stderr
    )
    assert not (tmp_path / "secret_key").exists()


def test_a_local_run_makes_its_own_key_once_per_checkout(tmp_path):
    """DEBUG off but a loopback SITE_URL (`manage.py generate` on a laptop): no public default
    key, a random one kept in var/secret_key (mode 0600) and reused."""
    env = production_env(tmp_path, SITE_URL="http://127.0.0.1:8000", DJANGO_ALLOWED_HOSTS="")
    del env["DJANGO_SECRET_KEY"]
    first, second = print_secret(env), print_secret(env)
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert len(key) >= 50 and second.stdout.strip() == key
    stored = tmp_path / "secret_key"
    assert stored.read_text() == key and stored.stat().st_mode & 0o777 == 0o600
    other = tmp_path / "other-checkout"
    third = print_secret(dict(env, SEEDANCE_VAR_DIR=str(other), DJANGO_DEBUG="1"))
    assert third.stdout.strip() not in ("", key)
