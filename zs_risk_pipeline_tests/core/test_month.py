"""The one month type (月份): parsing, first and last day, arithmetic across year ends."""

from __future__ import annotations

import datetime as dt

import pytest

from zs_risk_pipeline.lib.core.month import Month


@pytest.mark.parametrize("text", ["2024-03", "2024-03-01"])
def test_a_label_and_a_partition_key_name_the_same_month(text: str) -> None:
    m = Month.of(text)
    assert (m.start, m.end, m.label, m.key, str(m)) == (
        dt.date(2024, 3, 1),
        dt.date(2024, 3, 31),
        "2024-03",
        "2024-03-01",
        "2024-03",
    )
    assert Month.of(dt.date(2024, 3, 17)) == m == Month.of(m)


@pytest.mark.parametrize("bad", ["2024-13", "2024-3", "2024-03-02", "24-03", "", None, 202403, "2024-00"])
def test_anything_else_is_refused_with_what_was_given(bad: object) -> None:
    with pytest.raises(ValueError, match="month must be 'YYYY-MM' or 'YYYY-MM-01'"):
        Month.of(bad)  # type: ignore[arg-type]
    assert not Month.is_label(bad)


def test_month_ends_leap_years_and_arithmetic_across_year_ends() -> None:
    assert Month.of("2024-02").end == dt.date(2024, 2, 29) and Month.of("2023-02").end == dt.date(2023, 2, 28)
    assert Month.of("2024-12").end == dt.date(2024, 12, 31)
    assert Month.of("2024-12").next() == Month(2025, 1) and Month.of("2025-01").previous() == Month(2024, 12)
    assert Month.of("2024-03").shift(-15) == Month(2022, 12) and Month.of("2022-12").shift(15) == Month(2024, 3)
    assert Month.of("2024-03").months_since(Month(2022, 12)) == 15
    assert sorted([Month(2024, 1), Month(2023, 12)]) == [Month(2023, 12), Month(2024, 1)]
    assert Month.is_label("2024-03") and not Month.is_label("2024-03-01") and Month.is_label_or_key("2024-03-01")
