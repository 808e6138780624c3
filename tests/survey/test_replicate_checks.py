"""Issue 19: replicate designs are checked against the weights themselves, and PV counts.

The ratio of each replicate weight to the final weight identifies the method (Fay: k or 2 - k,
BRR: 0 or 2, JK1: 0 or n/(n-1)); a method that does not fit is refused, and so are a copy of
the final weight among the replicates, a replicate too few or too many, replication factors
given instead of weights and weights stored as text. The designs are built here with known
closed-form SEs: the delete-one jackknife of a mean with unit weights gives s / sqrt(n), and BRR
or Fay replicates of a total over strata of two PSUs give sqrt(sum_h (y_h1 - y_h2)^2).
"""

import numpy as np
import pandas as pd
import pytest
from scipy.linalg import hadamard

from toolkit.survey import (
    lsa_mean,
    pisa_design,
    replicate_design,
    with_replicates,
)


def jk1_frame(n: int = 40, seed: int = 0) -> tuple[pd.DataFrame, list[str]]:
    """n respondents with unit weights and delete-one jackknife replicate columns."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"y": rng.normal(50, 10, n), "w": 1.0})
    reps = n / (n - 1) * (1 - np.eye(n))
    cols = [f"rw{r}" for r in range(1, n + 1)]
    return pd.concat([df, pd.DataFrame(reps, columns=cols)], axis=1), cols


def paired_frame(
    n_strata: int, n_reps: int, k: float = 0.0, seed: int = 0, weight: float = 1.0
) -> tuple[pd.DataFrame, list[str]]:
    """Two PSUs (one row each) per stratum; BRR (k = 0) or Fay replicates from a Hadamard matrix."""
    rng = np.random.default_rng(seed)
    h = hadamard(n_reps)[:, 1 : n_strata + 1]  # (replicates, strata), +-1, balanced
    y = rng.normal(10, 3, 2 * n_strata)
    stratum = np.repeat(np.arange(n_strata), 2)
    first = np.tile([1, -1], n_strata)
    sign = h[:, stratum] * first[None, :]  # (replicates, rows)
    factor = np.where(sign > 0, 2 - k, k).T
    cols = [f"rep{r}" for r in range(1, n_reps + 1)]
    df = pd.DataFrame({"y": y, "w": weight, "stratum": stratum})
    return pd.concat([df, pd.DataFrame(weight * factor, columns=cols)], axis=1), cols


def total(d: pd.DataFrame, w: np.ndarray) -> float:
    return float(np.sum(w * d["y"].to_numpy()))


def test_jk1_weights_under_fay_are_refused_and_inferred_right():
    df, cols = jk1_frame(40)
    # before: the default method="fay" gave an SE about three times too small
    with pytest.raises(ValueError, match=r"method='fay' does not fit.*JK1"):
        replicate_design(df, "w", cols, method="fay")
    des = replicate_design(df, "w", cols)
    assert des.method == "jk1" and "inferred from the weights" in des.label
    se = lsa_mean(des, "y", sd=False)["se"].iloc[0]
    assert se == pytest.approx(df["y"].std(ddof=1) / np.sqrt(40), rel=1e-12)


def test_count_checks_apply_to_explicit_lists():
    df, cols = paired_frame(12, 16, k=0.5, weight=3.0)
    ok = replicate_design(df, "w", cols)
    assert ok.method == "fay" and ok.scale == pytest.approx(1 / (16 * 0.25))
    with pytest.raises(ValueError, match=r"\['w'\] equal the final weight 'w'"):
        replicate_design(df, "w", [*cols, "w"])  # the list picked up the final weight
    with pytest.raises(ValueError, match=r"the list has 15 columns.*multiple of 4"):
        replicate_design(df, "w", cols[:-1])
    jk, jcols = jk1_frame(40)
    with pytest.raises(ValueError, match="deleted in several replicates"):
        replicate_design(jk.assign(extra=jk["rw3"]), "w", [*jcols, "extra"])
    with pytest.raises(ValueError, match="deleted in no replicate: a replicate weight is missing"):
        replicate_design(jk, "w", jcols[:-1])
    with pytest.raises(ValueError, match="deleted in no replicate"):
        replicate_design(jk, "w", jcols[:-1], method="jk1")


def test_fay_factors_instead_of_weights_are_refused():
    df, cols = paired_frame(12, 16, k=0.5, weight=1.0)
    weighted = df.assign(w=np.linspace(20, 40, len(df)))  # factors left as they were
    with pytest.raises(ValueError, match=r"hold replication factors .*not replicate weights"):
        replicate_design(weighted, "w", cols)
    with pytest.raises(ValueError, match="replication factors"):
        replicate_design(weighted, "w", cols, method="fay", fay_k=0.5)
    fixed = weighted.copy()
    fixed[cols] = fixed[cols].mul(fixed["w"], axis=0)
    assert replicate_design(fixed, "w", cols).method == "fay"


@pytest.mark.parametrize(("k", "method"), [(0.0, "brr"), (0.5, "fay"), (0.3, "fay")])
def test_paired_designs_give_the_closed_form_se(k, method):
    df, cols = paired_frame(7, 8, k=k, seed=3)
    des = replicate_design(df, "w", cols)
    assert des.method == method
    res = with_replicates(des, total)
    d = df["y"].to_numpy().reshape(-1, 2)
    assert res["se"].iloc[0] == pytest.approx(np.sqrt(((d[:, 0] - d[:, 1]) ** 2).sum()))
    with pytest.raises(ValueError, match="does not fit"):
        replicate_design(df, "w", cols, method="jk1")
    if method == "fay":
        with pytest.raises(ValueError, match=r"fay_k=0.8 does not fit"):
            replicate_design(df, "w", cols, method="fay", fay_k=0.8)


def test_designs_whose_scale_depends_on_the_study_must_be_named():
    # JK2 (0 or 2 in a zone, 1 elsewhere): one or both halves per zone changes the scale
    n = 12
    w = np.ones(n)
    zone = np.repeat(np.arange(6), 2)
    reps = np.ones((n, 6))
    for z in range(6):
        reps[zone == z, z] = [2.0, 0.0]
    df = pd.DataFrame({"y": np.arange(n, dtype=float), "w": w})
    with pytest.raises(ValueError, match=r"looks like a paired jackknife \(JK2\).*timss_design"):
        replicate_design(df, "w", reps)
    assert replicate_design(df, "w", reps, method="jk2").scale == 1.0
    with pytest.raises(ValueError, match="cannot be told from the weights"):
        replicate_design(df, "w", np.column_stack([w * 0.9, w * 1.3]))


def test_replicate_weights_read_as_text_name_the_column():
    df, cols = paired_frame(6, 8, k=0.5, weight=20000.0)
    text = df.astype({"rep5": object})
    text["rep5"] = [f"{v:,.0f}" for v in df["rep5"]]  # "31,302": thousands separators
    with pytest.raises(
        TypeError, match=r"column 'rep5' holds text \['30,000', '10,000'\].*thousands=','"
    ):
        replicate_design(text, "w", cols)
    weight_text = df.astype({"w": object})
    weight_text.loc[3, "w"] = "20,000"
    with pytest.raises(
        TypeError, match=r"weight: column 'w' holds text \['20,000'\] in rows \[3\]"
    ):
        replicate_design(weight_text, "w", cols)


def test_pisa_design_refuses_a_missing_tenth_plausible_value(pisa_rw):
    ten = pisa_rw.copy()
    for m in range(6, 11):
        ten[f"PV{m}MATH"] = ten["PV1MATH"] + m
    nine = ten.drop(columns="PV10MATH")  # the only domain: the count read from the file is 9
    with pytest.raises(ValueError, match=r"numbered up to 9.*5 \(2000-2012\) or 10"):
        pisa_design(nine)
    with pytest.raises(ValueError, match=r"matches 9 plausible values.*n_pv=10"):
        lsa_mean(pisa_design(nine, n_pv=10), "PV@MATH")
    assert lsa_mean(pisa_design(nine, n_pv=9), "PV@MATH")["n_pv"].iloc[0] == 9
    assert lsa_mean(pisa_design(ten), "PV@MATH")["n_pv"].iloc[0] == 10
    # a design without a count refuses a set of a size no study publishes
    plain = replicate_design(nine, "W_FSTUWT", r"W_FSTURWT\d+", fay_k=0.5)
    with pytest.raises(ValueError, match=r"9 plausible values .* not 5, 10 or 20"):
        lsa_mean(plain, "PV@MATH")


def test_summary_row_under_replicate_data_is_refused():
    df, cols = jk1_frame(12)
    footer = pd.concat(
        [df.assign(id=np.arange(12).astype(object)), pd.DataFrame([{"id": "Total", **df.sum()}])],
        ignore_index=True,
    )
    with pytest.raises(ValueError, match=r"replicate_design: the last rows look like summary rows"):
        replicate_design(footer, "w", cols)
