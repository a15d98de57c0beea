"""One colour per status, verdict and coverage level, used by every chart and table."""

from __future__ import annotations

STATUS_COLORS: dict[str, str] = {
    "completed": "#2E9E6B",  # green: delivered by the AI
    "escalated": "#E8A33D",  # amber: a person finished it
    "failed": "#D9534F",  # red: no outcome
    "open": "#8A94A6",  # grey: still running
}
STATUS_LABELS: dict[str, str] = {
    "completed": "Completed",
    "escalated": "Escalated",
    "failed": "Failed",
    "open": "Open",
}

VERDICT_COLORS: dict[str, str] = {
    "correct": "#2E9E6B",
    "incorrect": "#D9534F",
    "unreviewed": "#8A94A6",
}
VERDICT_LABELS: dict[str, str] = {"correct": "Correct", "incorrect": "Incorrect", "unreviewed": "Unreviewed"}

COVERAGE_COLORS: dict[str, str] = {
    "automated": "#2F5BEA",  # blue: the AI does it
    "assisted": "#8FA8F5",  # light blue: the AI does it, a person approves
    "manual": "#C9CED8",  # grey: a person does it
}
# Observed AI share in five bands (0–20%, … 80–100%): red for little, through amber, to dark blue for all; each band
# differs from its neighbours in hue and lightness (ColorBrewer RdYlBu, colour-blind safe).
SHARE_BANDS: tuple[str, ...] = ("#D73027", "#FC8D59", "#FEE090", "#91BFDB", "#4575B4")
COVERAGE_LABELS: dict[str, str] = {
    "automated": "Automated — the AI does it",
    "assisted": "Assisted — the AI does it, a person approves",
    "manual": "Manual — a person does it",
}
COVERAGE_SHORT: dict[str, str] = {"automated": "Automated", "assisted": "Assisted", "manual": "Manual"}

PERFORMER_LABELS: dict[str, str] = {"ai": "AI", "human": "Person"}

PRIMARY = "#2F5BEA"
TARGET = "#1B2333"
MUTED = "#8A94A6"
SEVERITY_ICONS = {"critical": ":material/error:", "warning": ":material/warning:"}
