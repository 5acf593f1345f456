-- Stand-ins (temporary, this connection only) for the registry and the plans while they are not staged yet: in a
-- deployment's first month, results published on arrival come before any month was built. Their names and plan
-- names then stay empty; the month's record, built after the month's end, has them.
CREATE TEMP TABLE IF NOT EXISTS registry (uscc VARCHAR, name VARCHAR, record_date DATE, _delivery_month DATE,
    _source_file VARCHAR, _row_number BIGINT);
CREATE TEMP TABLE IF NOT EXISTS plans (plan_id VARCHAR, plan_name VARCHAR, department VARCHAR, _delivery_month DATE,
    _source_file VARCHAR, _row_number BIGINT);
