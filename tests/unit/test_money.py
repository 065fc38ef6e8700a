"""The shop's currency: an ISO 4217 code CLDR knows, its minor unit from CLDR, and amounts
rounded half up to it. Minor units as ISO 4217's list states them (USD, EUR 2; JPY 0; KWD 3)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from common.config import ConfigError, load_config
from common.money import Currency, currency_of


def test_the_default_currency_is_the_demo_datas_us_dollar():
    assert load_config({}).currency == "USD"
    assert load_config({"EXECKPI_CURRENCY": "EUR"}).currency == "EUR"


@pytest.mark.parametrize("code", ["EURO", "eur", "€", "US"])
def test_config_refuses_what_is_not_a_currency_code(code):
    with pytest.raises(ConfigError) as error:
        load_config({"EXECKPI_CURRENCY": code})
    assert error.value.problems == [
        f"EXECKPI_CURRENCY={code!r}: must be an ISO 4217 code: three capital letters, e.g. EUR"
    ]


def test_a_code_cldr_does_not_know_is_a_config_error():
    with pytest.raises(ConfigError) as error:
        currency_of("XXY")
    assert error.value.problems == [
        "EXECKPI_CURRENCY='XXY': not an ISO 4217 currency code CLDR knows"
    ]


def test_the_kpi_function_does_not_start_with_an_unknown_currency(function_client):
    with pytest.raises(ConfigError, match="XXY"):
        function_client("kpi", EXECKPI_CURRENCY="XXY")


@pytest.mark.parametrize(("code", "digits"), [("USD", 2), ("EUR", 2), ("JPY", 0), ("KWD", 3)])
def test_minor_units_come_from_cldr(code, digits):
    assert currency_of(code) == Currency(code, digits)


@pytest.mark.parametrize(
    ("amount", "rounded"),
    [
        (Decimal("11987.230017185211"), 11987.23),
        (11987.230017185211, 11987.23),
        (0.125, 0.13),  # half up, where half-even would give 0.12
        (2.675, 2.68),  # the float is 2.67499999…: read as written, not as stored
        (-0.125, -0.13),  # away from zero, symmetric
        (Decimal("0.005"), 0.01),
        (float("nan"), None),
    ],
)
def test_amounts_round_half_up_to_the_cent(amount, rounded):
    assert Currency("EUR", 2).round(amount) == rounded


def test_a_currency_without_minor_unit_rounds_to_whole_units():
    assert Currency("JPY", 0).round(Decimal("1234.5")) == 1235
    assert Currency("JPY", 0).round(1234.49) == 1234
