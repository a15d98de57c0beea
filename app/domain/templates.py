"""Job-map templates a new job starts from.

The customer-support steps are the article's; each step carries a default
coverage level and the minutes a person would spend on it by hand (used for
"value delivered").
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.errors import OverseerError
from app.domain.steps import STEPS


@dataclass(frozen=True)
class StepTemplate:
    description: str
    coverage: str
    manual_minutes: int


@dataclass(frozen=True)
class JobTemplate:
    slug: str
    name: str
    outcome_unit: str
    steps: dict[str, StepTemplate]


def _t(slug, name, unit, rows) -> JobTemplate:
    steps = {step: StepTemplate(*row) for step, row in zip(STEPS, rows, strict=True)}
    return JobTemplate(slug, name, unit, steps)


TEMPLATES: dict[str, JobTemplate] = {
    t.slug: t
    for t in (
        _t(
            "customer-support",
            "Resolve a support inquiry",
            "resolved ticket",
            [
                ("Identify the type of inquiry and its urgency.", "automated", 2),
                ("Gather relevant customer information and previous interaction history.", "automated", 4),
                ("Ensure necessary resources are available to resolve the inquiry.", "automated", 3),
                ("Validate the inquiry's details before processing.", "assisted", 2),
                ("Resolve the inquiry using AI tools or manual support.", "automated", 8),
                ("Track the resolution progress and check for accuracy.", "assisted", 3),
                ("Adjust the response if new information arises.", "assisted", 4),
                ("Close the inquiry and document the resolution for future reference.", "automated", 2),
            ],
        ),
        _t(
            "data-analysis",
            "Answer a business question with data",
            "delivered analysis",
            [
                ("Frame the question and the decision it informs.", "assisted", 10),
                ("Find the datasets and definitions that answer it.", "automated", 20),
                ("Clean, join and shape the data for analysis.", "automated", 30),
                ("Check data freshness, coverage and definitions before running.", "assisted", 10),
                ("Run the analysis and build the charts.", "automated", 40),
                ("Sanity-check results against known figures.", "assisted", 15),
                ("Refine the analysis after stakeholder questions.", "manual", 20),
                ("Deliver the findings and archive the notebook.", "automated", 10),
            ],
        ),
        _t(
            "report-generation",
            "Produce a recurring report",
            "delivered report",
            [
                ("Determine the report's audience, period and sections.", "automated", 5),
                ("Collect the figures and source documents for the period.", "automated", 25),
                ("Assemble the data into the report's tables and charts.", "automated", 30),
                ("Verify the figures reconcile with the source systems.", "assisted", 15),
                ("Write the narrative and generate the document.", "automated", 30),
                ("Review the draft for accuracy and tone.", "assisted", 15),
                ("Apply reviewers' corrections.", "manual", 10),
                ("Publish the report and notify its recipients.", "automated", 5),
            ],
        ),
    )
}


def get_template(slug: str) -> JobTemplate:
    """Return the template called ``slug`` or raise :class:`OverseerError` naming the known ones."""
    try:
        return TEMPLATES[slug]
    except KeyError:
        shown = repr(slug) if len(str(slug)) <= 60 else f"{str(slug)[:60]!r}…"
        raise OverseerError(f"unknown template {shown}; expected one of {', '.join(TEMPLATES)}") from None
