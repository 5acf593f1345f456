-- For each result of delivery month $month, the batch that first made it public and that batch's date (公示日期).
-- A corrected file is a new batch: a result it repeats stays dated by its first publication.
SELECT task_id, batch_id, published_on
FROM publicity.result_batch_rows
WHERE month = $month
QUALIFY row_number() OVER (PARTITION BY task_id ORDER BY published_on, batch_id) = 1;
