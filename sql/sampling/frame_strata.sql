-- N_h: enterprises per stratum of the frame just computed (n_h and π follow in exact decimal, lib/sampling/protocol.py).
SELECT stratum, count(*) AS n FROM _sampling_frame_rows GROUP BY stratum ORDER BY stratum;
