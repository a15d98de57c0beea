"""The charge-model registry (app/domain/charges): every module is registered, named after itself, and tested.

A new model is its own module, one entry in ``MODELS`` and its own test — a
file ``tests/domain/charges/test_<name>.py`` or a ``test_<name>_…`` section of
``tests/domain/test_charges.py``; these checks say when one of the three is missing.
"""

from __future__ import annotations

import ast
import inspect
import pkgutil
from decimal import Decimal
from pathlib import Path

import pytest

from app.domain import charges
from app.domain.charges import MODELS, ChargeModel, model_for, tiered_names, usage_lines
from app.domain.plans import TIERS_MODES, parse_plan

TESTS = Path(__file__).resolve().parent


def _modules() -> set[str]:
    return {m.name for m in pkgutil.iter_modules(charges.__path__)}


def test_every_module_of_the_package_is_registered_under_its_own_name():
    assert set(MODELS) == _modules()
    for name, model in MODELS.items():
        assert isinstance(model, ChargeModel)
        assert model.name == name
        assert model.lines.__module__ == f"{charges.__name__}.{name}"


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_has_one_signature(name):
    assert list(inspect.signature(MODELS[name].lines).parameters) == ["plan", "units"]


def _test_names(path: Path) -> set[str]:
    return {n.name for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.FunctionDef)}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_has_its_own_test(name):
    own_file = TESTS / "charges" / f"test_{name}.py"
    section = {t for t in _test_names(TESTS / "test_charges.py") if t.startswith(f"test_{name}_")}
    assert own_file.exists() or section, f"charge model {name!r} has no test file and no test_{name}_… section"


def test_plans_accept_exactly_the_tiered_models():
    assert TIERS_MODES == tiered_names() == tuple(n for n, m in MODELS.items() if m.tiered)
    tiers = [{"up_to": 2, "unit_price": "3"}, {"up_to": None, "unit_price": "1"}]
    for mode in TIERS_MODES:
        plan = parse_plan({"name": "p", "tiers": tiers, "tiers_mode": mode})
        assert model_for(plan) is MODELS[mode]
        assert usage_lines(plan, 4) == MODELS[mode].lines(plan, 4)


def test_a_plan_without_tiers_is_priced_by_the_untiered_model():
    plan = parse_plan({"name": "p", "outcome_price": "2.50"})
    assert not model_for(plan).tiered
    assert sum(line.amount for line in usage_lines(plan, 4)) == Decimal("10.00")
