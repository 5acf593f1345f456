-- Table comment of the feature table; {comment} is a quoted, escaped literal (COMMENT ON takes no parameter).
COMMENT ON TABLE features.enterprise_monthly IS {comment};
