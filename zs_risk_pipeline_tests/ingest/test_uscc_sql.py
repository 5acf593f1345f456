"""The SQL check of unified social credit codes agrees with the Python reference on many codes."""

from __future__ import annotations

import duckdb
import numpy as np

from zs_risk_pipeline.lib.ingest import staging, uscc


def test_sql_and_python_agree_on_valid_mutated_and_malformed_codes():
    rng = np.random.default_rng(7)
    valid = list(uscc.generate(rng, 3000, category=rng.choice(list("123"), 3000)))
    charset = np.array(list(uscc.CHARSET + "IOSVZa ９"))
    mutated = []
    for code in valid[:1500]:
        pos = int(rng.integers(0, 18))
        mutated.append(code[:pos] + str(rng.choice(charset)) + code[pos + 1 :])
    odd = [
        "",
        "   ",
        "9144200MA5L30P862",
        "91442000ma5l30p862",
        "９１４４２０００ＭＡ５Ｌ３０Ｐ８６２",
        "91442000MA5L30P86２X",
    ]
    codes = valid + mutated + odd
    conn = duckdb.connect()
    staging.prepare(conn)
    conn.execute(
        "CREATE TABLE c AS SELECT unnest($codes) AS code, generate_subscripts($codes, 1) AS i", {"codes": codes}
    )
    got = [r[0] for r in conn.execute("SELECT zs_uscc_problem(zs_code(code)) FROM c ORDER BY i").fetchall()]
    expected = [None if not c.strip() else uscc.validate(c) for c in codes]
    assert got == expected
    # the mix really exercises all three outcomes
    assert expected.count("uscc_checksum") > 800 and expected.count("uscc_format") > 200 and expected.count(None) > 3000
