"""Sending what the outbox holds: webhooks, e-mail, and the worker that runs them."""
