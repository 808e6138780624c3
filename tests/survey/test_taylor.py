"""Finite population corrections and Taylor-linearised means against R's survey 4.1-1.

tests/reference/survey_taylor.R uses survey's own api data: apiclus1 (15 of 757 school
districts, one-stage cluster sample) and apistrat (stratified by school type), with
svydesign(..., fpc = ~fpc), svymean / svyby on the design (linearisation) and on
as.svrepdesign(type = "JK1" / "JKn"). Without fpc the JK1 SE of the api00 mean is 26.60;
with it R gives 26.33 (replicates) and 23.54 (linearisation). Agreement is to about 1e-12.
"""

import json

import numpy as np
import pandas as pd
import pytest

from toolkit.datasets import load_dataset
from toolkit.survey import jackknife_design, lsa_mean, taylor_mean

ATOL = 1e-8


@pytest.fixture(scope="module")
def ref(reference_dir) -> dict:
    return json.loads((reference_dir / "survey_taylor.json").read_text())


@pytest.fixture(scope="module")
def clus1(reference_dir) -> pd.DataFrame:
    return pd.read_csv(reference_dir / "survey_apiclus1.csv")


@pytest.fixture(scope="module")
def strat(reference_dir) -> pd.DataFrame:
    return pd.read_csv(reference_dir / "survey_apistrat.csv")


def _first(x):
    return float(np.ravel(x)[0])


def test_jk1_with_fpc_matches_as_svrepdesign(clus1, ref, close):
    r = ref["clus1"]
    assert clus1["fpc"].unique().tolist() == [r["fpc"]]
    # R: as.svrepdesign(svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc), type = "JK1")
    des = jackknife_design(clus1, "pw", "dnum", fpc="fpc")
    assert des.scale == pytest.approx(r["jk1_scale"], rel=1e-12)  # 14/15 * (1 - 15/757)
    close(lsa_mean(des, "api00", sd=False)["se"], [r["jk1"]["se"]], ATOL, "JK1 fpc")
    nomse = jackknife_design(clus1, "pw", "dnum", fpc="fpc", mse=False)
    close(lsa_mean(nomse, "api00", sd=False)["se"], [r["jk1_nomse"]["se"]], ATOL, "mse=FALSE")
    plain = jackknife_design(clus1, "pw", "dnum")
    close(lsa_mean(plain, "api00", sd=False)["se"], [r["jk1_nofpc"]["se"]], ATOL, "no fpc")
    assert round(r["jk1"]["se"], 2) == 26.33 and round(r["jk1_nofpc"]["se"], 2) == 26.60
    # the sampling fraction may be given instead of the population size
    frac = clus1.assign(f=15 / 757)
    same = jackknife_design(frac, "pw", "dnum", fpc="f")
    assert same.scale == pytest.approx(des.scale, rel=1e-12)


def test_jkn_with_fpc(strat, ref, close):
    r = ref["strat"]
    # R: as.svrepdesign(svydesign(id = ~snum, strata = ~stype, fpc = ~fpc), type = "JKn")
    des = jackknife_design(strat, "pw", "snum", "stype", fpc="fpc")
    close(lsa_mean(des, "api00", sd=False)["se"], [r["jkn"]["se"]], ATOL, "JKn fpc")
    close(np.sort(des.rscales), np.sort(r["jkn_rscales"]), 1e-12, "rscales")


def test_taylor_mean_one_stage_cluster(clus1, ref, close):
    r = ref["clus1"]
    # R: svymean(~api00, svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc))
    res = taylor_mean(clus1, "api00", "pw", cluster="dnum", fpc="fpc").iloc[0]
    close(res["estimate"], r["taylor"]["estimate"], ATOL, "mean")
    close(res["se"], _first(r["taylor"]["se"]), ATOL, "se")
    close([res["ci_low"], res["ci_high"]], np.ravel(r["ci"]), 1e-7, "confint")
    nofpc = taylor_mean(clus1, "api00", "pw", cluster="dnum").iloc[0]
    close(nofpc["se"], _first(r["taylor_nofpc"]["se"]), ATOL, "se without fpc")
    # R: svyby(~api00, ~stype, dclus1, svymean): domains of the whole design
    by = taylor_mean(clus1, "api00", "pw", cluster="dnum", fpc="fpc", by="stype")
    assert by["stype"].tolist() == r["taylor_by"]["group"]
    close(by["estimate"], r["taylor_by"]["estimate"], ATOL, "by stype")
    close(by["se"], r["taylor_by"]["se"], ATOL, "se by stype")
    # R: svymean(~acs.46, dclus1, na.rm = TRUE): missing values are outside the domain
    na = taylor_mean(clus1, "acs.46", "pw", cluster="dnum", fpc="fpc").iloc[0]
    assert na["n"] == clus1["acs.46"].notna().sum() < len(clus1)
    close(na["estimate"], r["taylor_na"]["estimate"], ATOL, "mean with NA")
    close(na["se"], _first(r["taylor_na"]["se"]), ATOL, "se with NA")


def test_taylor_mean_stratified(strat, ref, close):
    r = ref["strat"]
    # R: svymean(~api00, svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc))
    res = taylor_mean(strat, "api00", "pw", strata="stype", fpc="fpc").iloc[0]
    close(res["estimate"], r["taylor"]["estimate"], ATOL, "mean")
    close(res["se"], _first(r["taylor"]["se"]), ATOL, "se")
    by = taylor_mean(strat, "api00", "pw", strata="stype", fpc="fpc", by="stype")
    close(by["se"], r["taylor_by"]["se"], ATOL, "se by stratum")
    na = taylor_mean(strat, "acs.46", "pw", strata="stype", fpc="fpc").iloc[0]
    close(na["se"], _first(r["taylor_na"]["se"]), ATOL, "se with NA")


def test_taylor_mean_with_plausible_values(ref, close):
    pm = load_dataset("pisamaths").assign(STRATUM2=lambda d: d["STRATUM"].str[:5])
    # R: MIcombine(withPV(..., svydesign(ids = ~SCHOOLID, strata = ~STRATUM2, ...), svymean))
    res = taylor_mean(pm, "PV@MATH", "W_FSTUWT", cluster="SCHOOLID", strata="STRATUM2")
    close(res["estimate"], [ref["pisa"]["mean"]["estimate"]], ATOL, "PV mean")
    close(res["se"], [ref["pisa"]["mean"]["se"]], ATOL, "PV se")
    assert res["n_pv"].iloc[0] == 5
    by = taylor_mean(
        pm, "PV@MATH", "W_FSTUWT", cluster="SCHOOLID", strata="STRATUM2", by="ST04Q01", n_pv=5
    )
    close(by["estimate"], ref["pisa"]["by_gender"]["estimate"], ATOL, "PV by gender")
    close(by["se"], ref["pisa"]["by_gender"]["se"], ATOL, "PV se by gender")


def test_closed_form_srswor():
    # simple random sample without replacement: SE = sqrt((1 - n/N) s^2 / n)
    rng = np.random.default_rng(7)
    y = rng.normal(10, 3, size=40)
    df = pd.DataFrame({"y": y, "w": 250 / 40, "N": 250})
    res = taylor_mean(df, "y", "w", fpc="N").iloc[0]
    assert res["se"] == pytest.approx(np.sqrt((1 - 40 / 250) * y.var(ddof=1) / 40), rel=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "change", "match"),
    [
        ({"cluster": "dnum", "fpc": "fpc"}, {"fpc": 10}, "says 10 clusters in the population"),
        ({"cluster": "dnum", "fpc": "fpc"}, {"fpc": -1}, "must hold positive numbers"),
        ({"strata": "stype", "fpc": "fpc"}, {"fpc": np.arange(1, 184)}, "constant within"),
        (
            {"cluster": "dnum", "strata": "s"},
            {"s": lambda d: np.where(d["dnum"] == d["dnum"].iloc[0], "a", "b")},
            "single PSU",
        ),
    ],
)
def test_design_errors(clus1, kwargs, change, match):
    bad = clus1.assign(**change)
    with pytest.raises(ValueError, match=match):
        taylor_mean(bad, "api00", "pw", **kwargs)
    if "cluster" in kwargs and "strata" not in kwargs:
        with pytest.raises(ValueError, match=match):
            jackknife_design(bad, "pw", "dnum", fpc="fpc")
