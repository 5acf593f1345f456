-- A column comment of a mart view or table: English description (中文名). {relation} and {column} are validated
-- identifiers, {comment} a quoted, escaped literal (COMMENT ON takes no parameter).
COMMENT ON COLUMN {relation}.{column} IS {comment};
