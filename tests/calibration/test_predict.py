"""Studies over posterior draws: parameter and sampling uncertainty, separately and together."""

import numpy as np
import pandas as pd
import pytest

from toolkit.calibration.predict import arm_status, combine_draws, format_posterior_summary
from toolkit.study import StudyError, parse_study, run_study


@pytest.fixture
def posterior(tmp_path):
    path = tmp_path / "posterior.csv"
    pd.DataFrame(
        {
            "learning_rate": [0.020, 0.028, 0.036, 0.024],
            "peer_learning": [0.02, 0.02, 0.03, 0.015],
            "weight": [1.0, 2.0, 1.0, 1.0],
        }
    ).to_csv(path, index=False)
    return path


def _study(posterior, **params):
    return {
        "study": {"name": "post", "seed": 9, "classrooms": 6},
        "arms": {"standardized": "standardized", "personal": "personal"},
        "parameters": {
            "n_students": 10,
            "n_days": 30,
            "from": "posterior",
            "posterior": str(posterior),
            "draws": 5,
        }
        | params,
        "output": {"formats": []},
    }


def test_study_file_options_are_checked(posterior, tmp_path):
    spec = parse_study(_study(posterior), "s.toml")
    assert spec.parameters_from == "posterior" and spec.posterior_draws == 5
    assert "from" not in spec.parameters
    points = spec.points()
    assert len(points) == 5
    lrs = [p.learning_rate for _, p, _ in points]
    assert set(lrs) <= {0.020, 0.028, 0.036, 0.024}
    with pytest.raises(StudyError, match=r"posterior file .* not found"):
        parse_study(_study(tmp_path / "none.csv"), "s.toml")
    with pytest.raises(StudyError, match="drawn from the posterior"):
        parse_study(_study(posterior, learning_rate=0.03), "s.toml")
    with pytest.raises(StudyError, match="'draws' must be"):
        parse_study(_study(posterior, draws=1), "s.toml")
    with pytest.raises(StudyError, match="'from' must be"):
        parse_study(_study(posterior, **{"from": "prior"}), "s.toml")
    bad = _study(posterior) | {"sweep": {"parameter": "zpd_width", "values": [1.0, 2.0]}}
    with pytest.raises(StudyError, match="not both"):
        parse_study(bad, "s.toml")
    # the posterior's content is part of what determines the numbers
    before = spec.fingerprint()
    df = pd.read_csv(posterior)
    df.loc[0, "learning_rate"] = 0.021
    df.to_csv(posterior, index=False)
    assert parse_study(_study(posterior), "s.toml").fingerprint() != before


def test_posterior_study_runs_every_draw_on_the_same_classrooms(posterior, tmp_path):
    spec = parse_study(_study(posterior), "s.toml")
    res = run_study(spec, tmp_path / "run", progress=False)
    st = res.students
    assert st["point"].nunique() == 5
    # the same students in every draw: prior scores do not depend on these parameters
    first = st[st.point == 0].sort_values(["arm", "replicate", "student"])["prior_score"].to_numpy()
    last = st[st.point == 4].sort_values(["arm", "replicate", "student"])["prior_score"].to_numpy()
    np.testing.assert_array_equal(first, last)
    post = res.posterior_summary
    assert set(post["status"]) == {"checked", "prediction"}
    assert post.loc[post.arm == "personal", "status"].eq("prediction").all()
    row = post[(post.arm == "personal") & (post.metric == "score")].iloc[0]
    total = row["total_high"] - row["total_low"]
    assert total >= 0.9 * (row["sampling_high"] - row["sampling_low"])
    assert total >= 0.9 * (row["parameter_high"] - row["parameter_low"])
    assert row["draws"] == 5
    files = {p.name for p in (tmp_path / "run").iterdir()}
    assert {"posterior_summary.csv", "posterior_draws.csv", "summary.csv"} <= files
    text = format_posterior_summary(post, ("score",))
    assert "personal (prediction)" in text and "classroom sampling" in text


def test_combined_interval_is_the_mixture_of_draws():
    rng = np.random.default_rng(0)
    d = 40
    diffs = rng.normal(0.3, 0.05, d)
    se = np.full(d, 0.02)
    t = 1.959964  # large n: the t quantile is the normal one
    summary = pd.DataFrame(
        {
            "point": range(d),
            "year": 0,
            "arm": "b",
            "metric": "score",
            "mean": diffs,
            "ci_low": diffs - 0.1,
            "ci_high": diffs + 0.1,
            "diff": diffs,
            "diff_ci_low": diffs - t * se,
            "diff_ci_high": diffs + t * se,
            "n_units": 100_000,
        }
    )
    c = combine_draws(summary).iloc[0]
    assert c["estimate"] == pytest.approx(diffs.mean())
    assert c["sampling_se"] == pytest.approx(0.02, rel=1e-4)
    assert c["parameter_low"] == pytest.approx(np.quantile(diffs, 0.025))
    mix = (diffs[:, None] + se[:, None] * rng.standard_normal((d, 20_000))).ravel()
    assert c["total_low"] == pytest.approx(np.quantile(mix, 0.025), abs=0.003)
    assert c["total_high"] == pytest.approx(np.quantile(mix, 0.975), abs=0.003)
    # law of total variance
    width = c["total_high"] - c["total_low"]
    assert width == pytest.approx(2 * 1.96 * np.sqrt(diffs.var() + 0.02**2), rel=0.08)


def test_arm_status():
    assert arm_status("standardized") == "checked"
    assert arm_status({"base": "individualized", "n_groups": 3}) == "checked"
    assert arm_status({"base": "individualized", "n_groups": 5}) == "prediction"
    assert arm_status(["individualized", "personalized"], 2) == "prediction"


def test_shipped_posterior_study_parses_given_a_posterior(posterior):
    from toolkit.study.spec import read_study_file

    data = read_study_file("simulations/calibrated/headline-posterior.toml")
    assert data["parameters"]["from"] == "posterior"
    data["parameters"]["posterior"] = str(posterior)
    spec = parse_study(data, "headline-posterior.toml")
    assert len(spec.points()) == spec.posterior_draws == 20
    assert list(spec.arms) == ["standardized", "individualized", "personalized", "personal"]
