-- One month of the one-public export in figures: rows, late rows, rows by calendar basis, publication day.
SELECT count(*) AS rows, count(*) FILTER (WHERE late) AS late,
    count(*) FILTER (WHERE deadline_basis <> 'statutory') AS not_statutory, max(published_on) AS published_on
FROM publicity.inspection_results
WHERE month = $month;
