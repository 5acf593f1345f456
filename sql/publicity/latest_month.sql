-- The latest month exported to the public (一公开), NULL when none.
SELECT max(month) FROM publicity.inspection_results;
