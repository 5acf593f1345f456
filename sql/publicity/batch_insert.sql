-- The results of one new batch, from the frame registered as _batch_rows under a provisional batch id (the
-- export reads them by it until the files are named). The caller holds the transaction open until the files
-- are renamed into place: a batch is in the tables exactly when its files are published.
INSERT INTO publicity.result_batch_rows BY NAME
SELECT * FROM _batch_rows ORDER BY inspected_on, task_id;
