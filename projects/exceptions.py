"""The project's own errors. Services raise these; views and commands show `message`."""

from __future__ import annotations


class ApplicationError(Exception):
    """A refusal a user can act on; `message` is safe to display."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequest(ApplicationError):
    """A generation request that breaks a gateway's limits: `errors` is {field: message}
    with fields model, prompt, ratio, resolution, duration, generate_audio, watermark, seed,
    references, provider, service_tier, and Ark's draft, frames, camera_fixed and
    execution_expires_after (providers/option_check.py). Nothing was stored, sent or held."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors


class InvalidStateTransition(ApplicationError):
    """The task is not in a status that allows the operation (e.g. cancel after success)."""


class NoPrice(ApplicationError):
    """No price rule covers the provider, model, resolution and audio choice: the request
    cannot be priced, so it is refused before anything is stored or held."""


class InsufficientCredits(ApplicationError):
    """The team's credit balance does not cover the request's worst-case cost."""


class BudgetExceeded(ApplicationError):
    """The request would take a team, project or user budget over its limit for the period.
    The message names the budget, what is left and what the request costs."""


class PriceChanged(ApplicationError):
    """The request costs another amount than the estimate the user was shown (a reference
    video measured differently on upload than the browser read it, a price rule changed in
    between): refused, with the new figure, so nothing is ever held that was not shown."""
