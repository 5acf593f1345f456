-- eligibility.csv of draw-v1 (design.md §6): the pairs (uscc, inspector_id) passing every static constraint,
-- from _eligibility_candidates (sql/sampling/eligibility.sql). Byte-wise order (COLLATE C), as the
-- protocol compares text, so the list reads the same on any connection.
SELECT uscc, inspector_id
FROM _eligibility_candidates
WHERE NOT conflict AND NOT recent
ORDER BY uscc COLLATE C, inspector_id COLLATE C;
