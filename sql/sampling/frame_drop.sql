-- The temporary tables of the month's frames and the view of earlier draws, once written (or after a failure).
DROP TABLE IF EXISTS temp._sampling_frame_rows;
DROP TABLE IF EXISTS temp._sampling_base;
DROP VIEW IF EXISTS temp._sampling_prior;
