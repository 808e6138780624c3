"""Reference PRIM trajectories from the EMA Workbench 3.0.0, for ``toolkit.robustness.prim``.

Run once, in an environment with the EMA Workbench (it is not one of the toolkit's
dependencies):

    python -m venv /tmp/ema && /tmp/ema/bin/pip install ema_workbench==3.0.0 numpy pandas
    /tmp/ema/bin/python tests/reference/robustness_prim.py tests/reference/

It writes ``robustness_prim_inputs.npz`` (each case's points ``x_<i>`` and flags ``y_<i>``) and
``robustness_prim.json``: for each case, the trajectory of ``Prim(x, y, mass_min=0.05)
.find_box()`` with every other setting at its default (lenient-1 objective, ``peel_alpha`` and
``paste_alpha`` 0.05): each box's lower and upper limits, coverage, density, mass, restricted
dimensions and number of points, floats written as ``repr`` so that they read back bit for bit.
``tests/robustness/test_prim.py`` requires ``prim_trajectory`` to give the same boxes.

The cases cover what a robustness study meets: a planted failure box, whole-number parameters
(many ties), values rounded to one decimal, pure noise, rare and common failures, a constant
parameter, tiny and larger designs, and up to ten parameters; the generator keeps drawing until
at least a third of the cases have a pasting phase.
"""

import json
import logging
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


def cases() -> list[tuple[str, pd.DataFrame, np.ndarray]]:
    out = []
    rng = np.random.default_rng(20261207)

    x = pd.DataFrame(rng.random((1000, 4)), columns=["u1", "u2", "u3", "u4"])
    y = ((x.u1 > 0.2) & (x.u1 < 0.5) & (x.u2 > 0.7)).to_numpy()
    out.append(("planted box, 1,000 points", x, y))

    x = pd.DataFrame({"class_size": rng.integers(15, 36, 400), "zpd": rng.random(400)})
    y = ((x.class_size > 28) & (x.zpd < 0.6)).to_numpy() ^ (rng.random(400) < 0.05)
    out.append(("whole numbers with ties, noisy box", x, y))

    x = pd.DataFrame(rng.random((300, 3)).round(1), columns=["a", "b", "c"])
    y = (x.a >= 0.7).to_numpy()
    out.append(("values rounded to one decimal", x, y))

    x = pd.DataFrame(rng.random((250, 5)), columns=list("abcde"))
    out.append(("noise only, 30% of interest", x, rng.random(250) < 0.3))

    x = pd.DataFrame(rng.random((500, 3)), columns=list("abc"))
    y = (x.a < 0.1).to_numpy() & (x.b < 0.5).to_numpy()
    out.append(("rare failures (about 5%)", x, y))

    x = pd.DataFrame(rng.random((500, 3)), columns=list("abc"))
    out.append(("common failures (about 90%)", x, ~((x.c > 0.9).to_numpy())))

    x = pd.DataFrame({"a": rng.random(200), "const": np.full(200, 0.5), "b": rng.random(200)})
    out.append(("a constant parameter", x, (x.b > 0.4).to_numpy()))

    x = pd.DataFrame(rng.random((5, 2)), columns=["a", "b"])
    out.append(("five points", x, np.array([True, False, True, False, False])))

    x = pd.DataFrame(rng.random((12, 3)), columns=list("abc"))
    out.append(("twelve points", x, (x.a > 0.5).to_numpy()))

    x = pd.DataFrame(rng.random((300, 10)), columns=[f"p{j}" for j in range(10)])
    y = (x.p3 + x.p7 > 1.2).to_numpy()
    out.append(("ten parameters, a diagonal boundary", x, y))

    seed = 0
    while len(out) < 24:
        r = np.random.default_rng([20261207, seed])
        seed += 1
        n, d = int(r.integers(20, 800)), int(r.integers(1, 7))
        x = pd.DataFrame(r.random((n, d)), columns=[f"p{j}" for j in range(d)])
        if seed % 3 == 0:
            x["p0"] = r.integers(10, 30, n)
        kind = seed % 3
        if kind == 0:
            y = (x.iloc[:, 0] > x.iloc[:, 0].median()).to_numpy()
        elif kind == 1:
            y = ((x.iloc[:, -1] > 0.3) & (x.iloc[:, -1] < 0.7)).to_numpy() ^ (r.random(n) < 0.1)
        else:
            y = (x.sum(axis=1) > d * 0.6).to_numpy()
        if y.all() or not y.any():
            continue
        pasted = sum(c[3] for c in out if len(c) == 4)
        has_paste = _trajectory(x, y)["phases_pasted"]
        if has_paste or pasted >= 8:
            out.append((f"random design {seed} ({n} points, {d} parameters)", x, y, has_paste))
    return [c[:3] for c in out]


def _trajectory(x: pd.DataFrame, y: np.ndarray) -> dict:
    from ema_workbench.analysis import prim

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        box = prim.Prim(x.astype(float), y.astype(int), mass_min=0.05).find_box()
    t = box.peeling_trajectory.reset_index(drop=True)
    # a paste makes the box larger than the one before it
    n = t["n"].to_numpy(int)
    return {
        "lower": [[repr(float(v)) for v in b.loc[0]] for b in box.box_lims],
        "upper": [[repr(float(v)) for v in b.loc[1]] for b in box.box_lims],
        "coverage": [repr(float(v)) for v in t["coverage"]],
        "density": [repr(float(v)) for v in t["density"]],
        "mass": [repr(float(v)) for v in t["mass"]],
        "res_dim": [int(v) for v in t["res_dim"]],
        "n": [int(v) for v in n],
        "phases_pasted": bool((np.diff(n) > 0).any()),
    }


def main(folder: Path) -> None:
    import ema_workbench

    logging.getLogger("EMA").setLevel(logging.WARNING)
    arrays, table = {}, []
    for i, (name, x, y) in enumerate(cases()):
        arrays[f"x_{i}"] = x.to_numpy(dtype=float)
        arrays[f"y_{i}"] = np.asarray(y, dtype=bool)
        table.append({"name": name, "columns": list(map(str, x.columns))} | _trajectory(x, y))
    np.savez_compressed(folder / "robustness_prim_inputs.npz", **arrays)
    meta = {"ema_workbench": ema_workbench.__version__, "numpy": np.__version__}
    (folder / "robustness_prim.json").write_text(
        json.dumps({"made_with": meta, "cases": table}, indent=1) + "\n"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
