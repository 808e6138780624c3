"""Reference numbers of the model before the mechanisms of issue 17 (commit 8d7db04).

Run once with the toolkit at commit 8d7db04 (before teacher and school effects, strategy use,
cooperative learning, group expectations, room-wide disruption, the cost of following learners'
plans and supervision that depends on the teacher being free):

    git worktree add /tmp/before 8d7db04 && cd /tmp/before && ./run.sh python \
        /path/to/tests/reference/mechanisms_off_before.py /path/to/tests/reference/

It writes ``mechanisms_off_before.csv.gz``: the student tables of four regimes and a two-year
schedule on six small classrooms, with every kernel's numbers (numpy, exact, fast). The test
``tests/test_mechanisms_switches.py`` requires the current model, with every new mechanism
switched off, to reproduce them.
"""

import sys
from pathlib import Path

import pandas as pd

from toolkit.engine import simulate_arms
from toolkit.model import Parameters, classroom_seed

ARMS = {
    "standardized": "standardized",
    "individualized": "individualized",
    "personalized": "personalized",
    "personal": "personal",
    "two_years": ["personalized", "personal"],
}
PARAMS = {"n_students": 12, "n_days": 30, "peer_ties": 3, "regroup_interval": 10}


def frames() -> pd.DataFrame:
    params = Parameters(**PARAMS)
    seeds = [classroom_seed(20261206, i) for i in range(6)]
    out = []
    for kernel in ("numpy", "exact", "fast"):
        df = simulate_arms(ARMS, params, seeds, n_years=2, kernel=kernel)
        out.append(df.assign(kernel=kernel))
    return pd.concat(out, ignore_index=True)


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent
    frames().to_csv(folder / "mechanisms_off_before.csv.gz", index=False, float_format="%.17g")
