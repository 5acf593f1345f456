-- One month of the one-public export in figures: rows, late rows, rows by calendar basis, and the batches that
-- published them (count, first and last publication date).
SELECT count(*) AS rows, count(*) FILTER (WHERE late) AS late,
    count(*) FILTER (WHERE deadline_basis <> 'statutory') AS not_statutory,
    count(DISTINCT batch_id) AS batches, min(published_on) AS first_published, max(published_on) AS last_published
FROM publicity.inspection_results
WHERE month = $month;
