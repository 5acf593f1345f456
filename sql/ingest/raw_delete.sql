-- Forget one delivery of one source before it is landed again (re-running a month is idempotent).
DELETE FROM raw.{source} WHERE _delivery_month = $month;
