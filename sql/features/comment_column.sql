-- Column comment "English description (中文名)"; {column} is a validated identifier, {comment} a quoted,
-- escaped literal (COMMENT ON takes no parameter).
COMMENT ON COLUMN features.enterprise_monthly.{column} IS {comment};
