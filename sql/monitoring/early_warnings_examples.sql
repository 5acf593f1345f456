-- A few example warnings of month $month for the demo printout: the first enterprise (by uscc) of each rule,
-- the most severe rules first. No tier or score.
SELECT uscc, rule, evidence_zh
FROM monitoring.early_warnings
WHERE month = $month
QUALIFY row_number() OVER (PARTITION BY rule ORDER BY uscc) = 1
ORDER BY list_position(['high', 'medium', 'low'], severity), rule
LIMIT $n;
