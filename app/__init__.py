"""Overseer: job-map outcome tracking for AI products sold on outcome-based pricing."""
