"""Expectations for features.enterprise_monthly (企业月度特征校验规则), built from the indicator catalogue.

Critical (blocks the publish): the exact column list, the key, every documented range, and NOT NULL for
indicators that can never be unknown. Warning (reported, does not block): the tolerated share of NULLs
of indicators that may be unknown (e.g. no annual report yet), a statistical bound that a late or
missing source delivery can exceed without the table being wrong.
"""

from __future__ import annotations

from typing import Any

from zs_risk_pipeline.lib.features.enterprise_monthly import Indicator

USCC_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"


def features_suite(indicators: list[Indicator]) -> list[Any]:
    import great_expectations.expectations as gxe

    exps: list[Any] = [
        gxe.ExpectTableColumnsToMatchOrderedList(column_list=["uscc", "month", *[i.name for i in indicators]]),
        gxe.ExpectColumnValuesToNotBeNull(column="uscc"),
        gxe.ExpectColumnValuesToBeUnique(column="uscc"),
        gxe.ExpectColumnValuesToMatchRegex(column="uscc", regex=USCC_PATTERN),
        gxe.ExpectColumnValuesToNotBeNull(column="month"),
    ]
    for ind in indicators:
        if ind.min is not None or ind.max is not None:
            exps.append(gxe.ExpectColumnValuesToBeBetween(column=ind.name, min_value=ind.min, max_value=ind.max))
        if ind.max_null_rate <= 0:
            exps.append(gxe.ExpectColumnValuesToNotBeNull(column=ind.name))
        elif ind.max_null_rate < 1:
            exps.append(
                gxe.ExpectColumnValuesToNotBeNull(
                    column=ind.name, mostly=round(1 - ind.max_null_rate, 6), severity="warning"
                )
            )
    return exps
