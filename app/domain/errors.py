"""Errors the domain raises for bad input. Their messages are shown to users as they are."""


class OverseerError(ValueError):
    """Bad input: the message says what is wrong, and nothing was changed."""


class NotFound(OverseerError):
    """The account, job or outcome asked for does not exist (or is not visible)."""
