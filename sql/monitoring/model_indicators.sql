-- Key indicators of month $month and of the reference month $reference (模型监测：关键指标分布), the columns
-- named in $columns (validated against the indicator catalogue when the policy is loaded). Two branches so that
-- $month = $reference still gives both sides. No ORDER BY: the PSI only counts values per bin.
SELECT TRUE AS is_current, COLUMNS(lambda c: list_contains($columns, c))
FROM features.enterprise_monthly
WHERE month = $month
UNION ALL
SELECT FALSE, COLUMNS(lambda c: list_contains($columns, c))
FROM features.enterprise_monthly
WHERE month = $reference;
