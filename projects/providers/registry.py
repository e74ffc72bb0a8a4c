"""Which gateways exist and which are configured: `get_provider(name)`.

Configuration is `settings.SEEDANCE_PROVIDERS` ({name: {class, label, api_key, base_url}}), filled
from the environment (`TOKENHUB_API_KEY`, `TOKENHUB_BASE_URL`, ...). A provider is configured,
and offered to users, when its API key is set. Instances are cached per process and dropped when
the setting changes (tests).
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from projects.callback_reach import callbacks_sent
from projects.providers.base import VideoProvider
from projects.providers.capabilities import ProviderCapabilities

_lock = threading.Lock()
_instances: dict[str, VideoProvider] = {}


class UnknownProvider(ImproperlyConfigured):
    """A provider name that is not in settings.SEEDANCE_PROVIDERS."""


def _config(name: str) -> dict[str, Any]:
    try:
        return settings.SEEDANCE_PROVIDERS[name]
    except KeyError:
        known = ", ".join(settings.SEEDANCE_PROVIDERS)
        raise UnknownProvider(f"Unknown provider {name!r}; known: {known}.") from None


def provider_names() -> list[str]:
    """Every gateway the app knows, configured or not."""
    return list(settings.SEEDANCE_PROVIDERS)


def configured_provider_names() -> list[str]:
    """Gateways with an API key, in settings order: the ones users may choose."""
    return [name for name, conf in settings.SEEDANCE_PROVIDERS.items() if conf.get("api_key")]


def get_capabilities(name: str) -> ProviderCapabilities:
    """The capability table of a gateway (no key needed)."""
    return import_string(_config(name)["class"]).CAPABILITIES


def uses_callbacks(name: str) -> bool:
    """Whether tasks of this gateway are sent a callback URL: the gateway calls back and the
    gateways can reach this site (SEEDANCE_CALLBACKS and SITE_URL, projects/callback_reach.py;
    not a laptop's http://127.0.0.1). Otherwise its tasks are polled like any other's."""
    return callbacks_sent() and get_capabilities(name).callbacks


def callback_gateway_labels() -> list[str]:
    """Labels of the configured gateways that could call back ("Ark", "seedance2.ink")."""
    return [
        get_capabilities(name).label
        for name in configured_provider_names()
        if get_capabilities(name).callbacks
    ]


def batch_size(name: str) -> int:
    """How many tasks of this gateway one status request can cover (0: one at a time)."""
    return import_string(_config(name)["class"]).batch_size


def get_provider(name: str) -> VideoProvider:
    """The configured adapter for `name`, built once per process.

    Raises UnknownProvider, or ImproperlyConfigured naming the missing variable.
    """
    with _lock:
        if name not in _instances:
            conf = _config(name)
            missing = [key for key in ("api_key", "base_url") if not conf.get(key)]
            if missing:
                variables = ", ".join(f"{name.upper()}_{key.upper()}" for key in missing)
                raise ImproperlyConfigured(f"Provider {name!r} is not configured: set {variables}.")
            cls = import_string(conf["class"])
            _instances[name] = cls(
                api_key=conf["api_key"],
                base_url=conf["base_url"],
                timeout=settings.SEEDANCE_HTTP_TIMEOUT,
            )
        return _instances[name]


def reset_providers() -> None:
    """Close and forget every cached adapter (settings changed, tests)."""
    with _lock:
        for provider in _instances.values():
            provider.close()
        _instances.clear()


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("SEEDANCE_PROVIDERS", "SEEDANCE_HTTP_TIMEOUT"):
        reset_providers()
