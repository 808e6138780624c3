"""Reliability against psych 2.2.9 on psych's bfi (tests/reference/survey_reliability.R).

Closed-form statistics (alpha tables, scoreItems) agree with R to about 1e-13; the tests allow
1e-8, far inside psych's printed precision (alpha to 2-4 decimals). Omega involves two
iterative steps (minres uniquenesses by L-BFGS-B, oblimin by GPA); it agrees to about 1e-13 on
this machine and the tests allow 1e-6.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from toolkit.survey import cronbach_alpha, omega, parse_keys, score_items

ATOL = 1e-8
ATOL_OMEGA = 1e-6


def test_bundled_bfi_is_psychs_bfi(bfi, ref_reliability):
    check = ref_reliability["bfi_check"]
    assert len(bfi) == check["n"]
    items = bfi.iloc[:, :25]
    assert int(items.isna().sum().sum()) == check["n_missing"]
    assert items.sum().to_dict() == pytest.approx(check["colsums"])


@pytest.mark.parametrize(
    "scale", ["agree", "conscientious", "extraversion", "neuroticism", "openness"]
)
def test_alpha_table_matches_psych(bfi, bfi_keys, ref_reliability, scale, close):
    ref = ref_reliability["alpha"][scale]
    res = cronbach_alpha(bfi, bfi_keys[scale])
    # R: psych::alpha(bfi[items], keys = <reverse-keyed items>)
    for col, value in ref["total"].items():
        close(res.total[col].iloc[0], value, ATOL, f"total.{col}")
    drop = res.alpha_drop
    for col in ["raw_alpha", "std_alpha", "g6_smc", "average_r", "s_n", "alpha_se", "var_r"]:
        close(drop[col], ref["alpha_drop"][col], ATOL, f"alpha_drop.{col}")
    close(drop["med_r"], ref["alpha_drop"]["med_r"], ATOL, "alpha_drop.med_r")
    stats = res.item_stats
    for col in ["n", "raw_r", "std_r", "r_cor", "r_drop", "mean", "sd"]:
        close(stats[col], ref["item_stats"][col], ATOL, f"item_stats.{col}")
    close(res.response_freq.to_numpy(), ref["response_freq"]["values"], ATOL, "response_freq")
    assert [str(c) for c in res.response_freq.columns] == ref["response_freq"]["columns"]
    close(res.ci.loc["feldt", "lower"], ref["feldt"]["lower"], ATOL, "feldt lower")
    close(res.ci.loc["feldt", "upper"], ref["feldt"]["upper"], ATOL, "feldt upper")
    close(res.scores.iloc[:6], ref["scores_head"], ATOL, "scores")
    close(res.scores.mean(), ref["scores_mean"], ATOL, "mean score")
    # psych labels reversed items "A1-"; here names stay clean and keys carry the sign
    reversed_items = [i[1:] for i in bfi_keys[scale] if i.startswith("-")]
    assert [f"{i}-" if i in reversed_items else i for i in res.keys.index] == ref["alpha_drop"][
        "item"
    ]


def test_alpha_printed_values(bfi):
    # psych prints raw_alpha 0.70, std.alpha 0.71, G6(smc) 0.68, average_r 0.33 for agreeableness
    res = cronbach_alpha(bfi, ["-A1", "A2", "A3", "A4", "A5"])
    assert res.total.round(4).iloc[0][["raw_alpha", "std_alpha", "g6_smc"]].tolist() == [
        0.703,
        0.713,
        0.6828,
    ]
    assert round(res.alpha, 4) == 0.703


def test_duhachek_interval_uses_ase(bfi):
    res = cronbach_alpha(bfi, ["-A1", "A2", "A3", "A4", "A5"])
    ase = res.total["ase"].iloc[0]
    lo, a, hi = res.ci.loc["duhachek", ["lower", "alpha", "upper"]]
    assert a == pytest.approx(res.alpha)
    assert (hi - lo) / 2 == pytest.approx(1.959964 * ase, rel=1e-6)


def test_check_keys_reverses_like_psych(bfi, ref_reliability, close):
    ref = ref_reliability["alpha_check_keys"]
    with pytest.warns(UserWarning, match="reversed automatically"):
        res = cronbach_alpha(bfi, ["A1", "A2", "A3", "A4", "A5"], check_keys=True)
    assert [("-" if k < 0 else "") + i for i, k in res.keys.items()] == ref["keys"]
    for col, value in ref["total"].items():
        close(res.total[col].iloc[0], value, ATOL, f"total.{col}")


def test_negative_item_without_keys_warns(bfi):
    with pytest.warns(UserWarning, match="probably should be reversed"):
        res = cronbach_alpha(bfi, ["A1", "A2", "A3", "A4", "A5"])
    assert (res.keys == 1).all()


def test_reverse_argument_equals_minus_prefix(bfi):
    a = cronbach_alpha(bfi, ["A1", "A2", "A3", "A4", "A5"], reverse=["A1"])
    b = cronbach_alpha(bfi, ["-A1", "A2", "A3", "A4", "A5"])
    pd.testing.assert_frame_equal(a.total, b.total)


def test_alpha_two_items_and_cumulative(bfi):
    res = cronbach_alpha(bfi, ["A2", "A3"])
    assert len(res.alpha_drop) == 2
    total = cronbach_alpha(bfi, ["A2", "A3", "A4"], cumulative=True)
    assert total.scores.max() > 6


def test_alpha_errors_name_the_problem(bfi):
    df = bfi[["A1", "A2"]].copy()
    df["const"] = 3.0
    with pytest.raises(ValueError, match=r"'const'.*no variance"):
        cronbach_alpha(df)
    df = bfi[["A1", "A2"]].astype(object)
    df.loc[61620, "A2"] = "often"
    with pytest.raises(TypeError, match=r"'A2'.*'often'.*61620"):
        cronbach_alpha(df)
    with pytest.raises(ValueError, match="at least two items"):
        cronbach_alpha(bfi, ["A1"])
    with pytest.raises(ValueError, match="is not in data"):
        cronbach_alpha(bfi, ["A1", "Z9"])


def test_parse_keys():
    names, keys = parse_keys(["-A1", "A2"], reverse=["A2"])
    assert names == ["A1", "A2"]
    assert keys.tolist() == [-1.0, -1.0]
    with pytest.raises(ValueError, match="not among the items"):
        parse_keys(["A1"], reverse=["B2"])


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("score_items", {}),
        ("score_items_none", {"impute": "none"}),
        ("score_items_totals", {"totals": True}),
    ],
)
def test_score_items_matches_psych(bfi, bfi_keys, ref_reliability, name, kwargs, close):
    ref = ref_reliability[name]
    # R: psych::scoreItems(bfi.keys, bfi[1:25], ...)
    res = score_items(bfi, bfi_keys, **kwargs)
    assert list(res.stats.index) == ref["scales"]
    for ours, theirs in [
        ("alpha", "alpha"),
        ("average_r", "av_r"),
        ("s_n", "sn"),
        ("g6", "g6"),
        ("median_r", "med_r"),
        ("ase", "ase"),
        ("n_items", "n_items"),
    ]:
        close(res.stats[ours], ref[theirs], ATOL, ours)
    for ours, theirs in [
        ("cor", "cor"),
        ("corrected", "corrected"),
        ("item_cor", "item_cor"),
        ("item_corrected", "item_corrected"),
    ]:
        close(getattr(res, ours), ref[theirs], ATOL, ours)
    assert list(res.item_cor.index) == ref["item_names"]
    close(res.scores.iloc[:6], np.array(ref["scores_head"], dtype=float), ATOL, "scores")
    close(res.scores.mean(), ref["scores_mean"], ATOL, "score means")
    close(res.scores.std(), ref["scores_sd"], ATOL, "score SDs")


def test_score_items_counts_missing(bfi, bfi_keys):
    res = score_items(bfi, bfi_keys)
    assert res.n_missing.loc[61623].sum() == bfi.loc[61623].iloc[:25].isna().sum()
    assert res.keys.loc["A1", "agree"] == -1


def test_score_items_bad_keys(bfi):
    with pytest.raises(TypeError, match="mapping"):
        score_items(bfi, ["A1", "A2"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="is not in data"):
        score_items(bfi, {"s": ["A1", "Q7"]})


@pytest.mark.parametrize(
    ("key", "nfactors", "n_items"), [("omega3", 3, 25), ("omega5", 5, 25), ("omega2", 2, 10)]
)
def test_omega_matches_psych(bfi, ref_reliability, key, nfactors, n_items, close):
    ref = ref_reliability[key]
    items = [f"{s}{i}" for s in "ACENO" for i in range(1, 6)][:n_items]
    # R: psych::omega(bfi[items], nfactors, plot = FALSE)  (fm = "minres", oblimin)
    res = omega(bfi, items, nfactors=nfactors)
    tab = res.table.iloc[0]
    for ours, theirs in [
        ("omega_h", "omega_h"),
        ("omega_total", "omega_tot"),
        ("alpha", "alpha"),
        ("g6", "g6"),
        ("omega_limit", "omega_lim"),
        ("ecv", "ecv"),
    ]:
        close(tab[ours], ref[theirs], ATOL_OMEGA, ours)
    assert list(res.loadings.columns) == ref["sl_cols"]
    assert list(res.loadings.index) == ref["sl_rows"]
    close(res.loadings.to_numpy(), ref["sl"], ATOL_OMEGA, "Schmid-Leiman loadings")
    close(res.phi.to_numpy(), ref["phi"], ATOL_OMEGA, "phi")
    close(res.g_loadings, ref["gloading"], ATOL_OMEGA, "g loadings")
    close(res.group["total"], np.array(ref["group_total"], dtype=float), ATOL_OMEGA, "total")
    close(res.group["general"], np.array(ref["group_general"], dtype=float), ATOL_OMEGA, "gen")
    close(res.group["group"], np.array(ref["group_group"], dtype=float), ATOL_OMEGA, "group")
    assert res.keys.tolist() == ref["key"]


def test_minres_factor_analysis_matches_psych_fa(bfi, ref_reliability, close):
    from toolkit.survey.reliability import _fa_minres, _pairwise_cor

    items = [f"{s}{i}" for s in "ACENO" for i in range(1, 6)]
    r = _pairwise_cor(bfi[items].to_numpy(dtype=float))
    load = _fa_minres(r, 5, rotate="varimax")
    close(load, ref_reliability["fa5_varimax"]["loadings"], ATOL_OMEGA, "fa varimax loadings")
    one = _fa_minres(_pairwise_cor(bfi[items[:5]].to_numpy(dtype=float)), 1)
    close(one[:, 0], ref_reliability["fa1_agree"]["loadings"], ATOL_OMEGA, "fa 1 factor")


def test_omega_arguments(bfi):
    with pytest.raises(ValueError, match="nfactors"):
        omega(bfi, ["A1", "A2", "A3"], nfactors=3)
    with pytest.raises(ValueError, match="fm"):
        omega(bfi, [f"A{i}" for i in range(1, 6)], nfactors=2, fm="ml")  # type: ignore[arg-type]
    keyed = omega(bfi, ["-A1", "A2", "A3", "A4", "A5", "C1", "C2", "C3", "-C4", "-C5"], 2)
    assert keyed.keys.tolist() == [-1, 1, 1, 1, 1, 1, 1, 1, -1, -1]
    assert 0 < keyed.omega_h < keyed.omega_total < 1


AGREE = ["-A1", "A2", "A3", "A4", "A5"]


@pytest.fixture(scope="module")
def coded_missing(bfi) -> pd.DataFrame:
    """bfi's agreeableness items with their missing answers typed in as 99, 0 or 7."""
    bad = bfi.copy()
    for k, item in enumerate(["A1", "A2", "A3", "A4", "A5"]):
        bad.loc[bad[item].isna(), item] = [99, 0, 7][k % 3]
    return bad


def test_codes_outside_the_scale_are_refused_or_warned(bfi, coded_missing, ref_reliability):
    # 99 is far above a 1-6 scale: refused, naming the items and rows (it took alpha below 0.1)
    with pytest.raises(
        ValueError, match=r"99 \(the other answers run from 0 to 7\) in 'A1' \(rows \["
    ):
        cronbach_alpha(coded_missing, AGREE)
    with pytest.raises(ValueError, match=r"score_items: values that look like missing-value codes"):
        score_items(coded_missing, {"agree": AGREE})
    with pytest.raises(ValueError, match=r"omega: values that look like missing-value codes"):
        omega(coded_missing, [i.lstrip("-") for i in AGREE], nfactors=1)
    # outside a declared scale: refused too
    with pytest.raises(
        ValueError, match=r"99 outside the declared scale in 'A1'.*missing=\[0, 7, 99\]"
    ):
        cronbach_alpha(coded_missing, AGREE, min=1, max=6)
    # 0 and 7 next to the scale, in under 0.5% of the answers: a warning naming them
    with pytest.warns(UserWarning, match=r"0 \(rare; nearly all answers are 1 to 6\) in 'A2'"):
        wrong = cronbach_alpha(coded_missing, AGREE, missing=[99])
    assert wrong.alpha < ref_reliability["alpha"]["agree"]["total"]["raw_alpha"] - 0.01
    # declared as missing codes, or recoded as missing, alpha is psych's again, without a warning
    clean = coded_missing.copy()
    for item in ["A1", "A2", "A3", "A4", "A5"]:
        clean[item] = clean[item].where(clean[item].between(1, 6))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        right = cronbach_alpha(clean, AGREE)
        declared = cronbach_alpha(coded_missing, AGREE, missing=[0, 7, 99])
        ranged = cronbach_alpha(coded_missing, AGREE, missing=[(7, 99), 0], min=1, max=6)
        cronbach_alpha(bfi, AGREE, min=1, max=6)
    expected = ref_reliability["alpha"]["agree"]["total"]["raw_alpha"]
    assert right.alpha == pytest.approx(expected)
    assert declared.alpha == pytest.approx(expected) and ranged.alpha == pytest.approx(expected)


def test_declared_bounds_set_the_reversal(bfi):
    # a scale whose answers never reach the top: psych's rule reverses with the observed max
    sub = bfi[["A1", "A2", "A3"]].clip(upper=5)
    observed = cronbach_alpha(sub, ["-A1", "A2", "A3"])
    declared = cronbach_alpha(sub, ["-A1", "A2", "A3"], min=1, max=6)
    np.testing.assert_allclose(
        declared.item_stats["mean"].iloc[0] - observed.item_stats["mean"].iloc[0], 1.0
    )
    assert declared.alpha == pytest.approx(observed.alpha)  # alpha itself does not move
    with pytest.raises(ValueError, match="must be below max"):
        cronbach_alpha(sub, ["A1", "A2"], min=6, max=1)
