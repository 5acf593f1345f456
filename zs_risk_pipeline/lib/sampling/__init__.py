"""Double-random inspections (双随机抽查): plan policy and sampling frames, draw protocol v1, drawing and auditing
plans, inspector eligibility, amendments."""
