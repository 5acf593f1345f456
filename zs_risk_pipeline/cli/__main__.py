"""`python -m zs_risk_pipeline.cli`: the same as the `zs-risk` command."""

import sys

from zs_risk_pipeline.cli import main

sys.exit(main())
