"""Expectations for tiers.enterprise_monthly (分类结果校验规则): all critical, they gate the publish.

Exactly one row per enterprise (uscc unique and well formed), a tier in A-D before and after overrides, a
probability in [0, 1], finite points and a model version on every row, and at least one reason wherever the
model (not the cold-start scorecard) scored: a tier without its reason cannot be explained to an inspector.
"""

from __future__ import annotations

from typing import Any

from zs_risk_pipeline.lib.features.suite import USCC_PATTERN

TIERS = ["A", "B", "C", "D"]


def tiers_suite() -> list[Any]:
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToNotBeNull(column="uscc"),
        gxe.ExpectColumnValuesToBeUnique(column="uscc"),
        gxe.ExpectColumnValuesToMatchRegex(column="uscc", regex=USCC_PATTERN),
        gxe.ExpectColumnValuesToBeInSet(column="tier", value_set=TIERS),
        gxe.ExpectColumnValuesToNotBeNull(column="tier"),
        gxe.ExpectColumnValuesToBeInSet(column="tier_by_score", value_set=TIERS),
        gxe.ExpectColumnValuesToBeBetween(column="probability", min_value=0, max_value=1),
        gxe.ExpectColumnValuesToNotBeNull(column="points"),
        gxe.ExpectColumnValuesToNotBeNull(column="model_version"),
        gxe.ExpectColumnValuesToBeInSet(column="model_kind", value_set=["lightgbm", "scorecard"]),
        gxe.ExpectColumnValuesToNotBeNull(
            column="reason_1", row_condition='model_kind=="lightgbm"', condition_parser="pandas"
        ),
    ]
