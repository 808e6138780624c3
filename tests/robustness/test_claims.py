"""Claims: the grammar, its errors, the verdicts, and claims true or false by construction."""

import numpy as np
import pandas as pd
import pytest

from toolkit.robustness.claims import ClaimError, evaluate_claims, parse_claim, parse_claims
from toolkit.study.spec import StudyError

ARMS = ["standardized", "individualized", "personalized", "personal"]
METRICS = ["effect_size", "sd_score", "mean_pairwise_distance"]


def _atoms(text):
    return [a.text() for a in parse_claim(text, ARMS, METRICS).atoms]


def test_every_form_becomes_its_atoms():
    assert _atoms("personalized - individualized > 0 on effect_size") == [
        "personalized - individualized > 0 on effect_size"
    ]
    assert _atoms("personal < 0.1 on effect_size") == ["personal < 0.1 on effect_size"]
    assert _atoms("individualized has the lowest sd_score") == [
        "individualized - standardized < 0 on sd_score",
        "individualized - personalized < 0 on sd_score",
        "individualized - personal < 0 on sd_score",
    ]
    assert _atoms("personal has the highest sd_score among standardized, personalized") == [
        "personal - standardized > 0 on sd_score",
        "personal - personalized > 0 on sd_score",
    ]
    assert _atoms("rank of mean_pairwise_distance: personalized > personal > standardized") == [
        "personalized - personal > 0 on mean_pairwise_distance",
        "personal - standardized > 0 on mean_pairwise_distance",
    ]
    assert _atoms("only individualized is below standardized on sd_score") == [
        "individualized - standardized < 0 on sd_score",
        "personalized - standardized > 0 on sd_score",
        "personal - standardized > 0 on sd_score",
    ]
    both = "personal - standardized > 0 on effect_size and personal has the highest sd_score"
    assert len(_atoms(both)) == 4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("personalised - individualized > 0 on effect_size", "unknown arm 'personalised'. Did you mean 'personalized'?"),  # noqa: E501
        ("personalized - individualized > 0 on effect_sise", "unknown metric 'effect_sise'. Did you mean 'effect_size'?"),  # noqa: E501
        ("personalized beats individualized", "cannot read 'personalized beats individualized'"),
        ("rank of sd_score: personal > standardized < personalized", "one direction throughout"),
        ("personal - personal > 0 on sd_score", "an arm minus itself"),
        ("only personal is below personal on sd_score", "compares an arm with itself"),
    ],
)  # fmt: skip
def test_errors_name_the_claim_and_what_is_wrong(text, message):
    with pytest.raises(ClaimError) as err:
        parse_claim(text, ARMS, METRICS, where="study.toml [robustness] claims[0]")
    assert message in str(err.value)
    assert str(err.value).startswith("study.toml [robustness] claims[0]")


def test_claim_lists_and_names():
    claims = parse_claims(
        ["personal - standardized > 0 on effect_size", {"name": "spread", "claim": "individualized has the lowest sd_score"}],  # noqa: E501
        ARMS,
        METRICS,
    )  # fmt: skip
    assert [c.name for c in claims] == ["personal - standardized > 0 on effect_size", "spread"]
    with pytest.raises(ClaimError, match="share the name"):
        parse_claims(["personal > 0 on sd_score", "personal  >  0  on  sd_score"], ARMS, METRICS)
    with pytest.raises(ClaimError, match="keys 'claim'"):
        parse_claims([{"name": "x", "text": "personal > 0 on sd_score"}], ARMS, METRICS)


def test_verdicts_from_paired_intervals():
    # 3 points, arms a and b, 4 classrooms: clear win, clear loss, too noisy to tell
    a = np.zeros((3, 4))
    b = np.array([[1.0, 1.1, 0.9, 1.0], [-1.0, -1.1, -0.9, -1.0], [1.0, -1.0, 1.2, -1.0]])
    cube = {"m": np.stack([a, b], axis=1)}
    c = parse_claim("b - a > 0 on m", ["a", "b"], ["m"])
    r = evaluate_claims([c], cube, ["a", "b"])[c.name]
    assert r["decided"].tolist() == ["holds", "fails", "undecided"]
    assert r["holds"].tolist() == [True, False, True]
    d = b - a
    half = 3.182446305284263 * d.std(axis=1, ddof=1) / 2  # t(0.975, 3) * s / sqrt(4)
    assert np.allclose(r["ci_low"], d.mean(axis=1) - half)
    # a conjunction's margin is the smallest atom's, its interval the atoms' smallest bounds
    cube["m"] = np.stack([a, b, b + 0.5], axis=1)
    c2 = parse_claim("rank of m: z > b > a", ["a", "b", "z"], ["m"])
    r2 = evaluate_claims([c2], cube, ["a", "b", "z"])[c2.name]
    assert np.allclose(r2["margin"], np.minimum(0.5, d.mean(axis=1)))


def test_true_by_construction_everywhere_and_its_negation_nowhere(study, run):
    """The paired model has b = a + 0.5 + x2 + noise at every point of a random design."""
    spec = study(
        {
            "model": "paired",
            "design": "random",
            "n": 64,
            "claims": [
                {"name": "true", "claim": "b - a > 0 on m"},
                {"name": "negation", "claim": "a - b > 0 on m"},
                {"name": "highest", "claim": "b has the highest m"},
            ],
        },
        study={"classrooms": 5},
    )
    result = run(spec)
    by_point = pd.read_csv(result.folder / "claims_by_point.csv")
    for name, holds, verdict in (("true", True, "holds"), ("negation", False, "fails"),
                                 ("highest", True, "holds")):  # fmt: skip
        rows = by_point[by_point["claim"] == name]
        assert len(rows) == 64
        assert (rows["holds"] == holds).all(), name
        assert (rows["decided"] == verdict).all(), name
    claims = result.summary.set_index("claim")
    assert claims.loc["true", "share"] == 1 and claims.loc["negation", "share"] == 0
    assert claims.loc["true", "region"] == "never fails in the sample"
    assert claims.loc["negation", "region"] == "fails everywhere in the sample"


def test_claim_errors_surface_as_study_errors(study):
    with pytest.raises(
        StudyError, match=r"test.toml \[robustness\] claims\[1\].*unknown arm 'persnal'"
    ):
        study(
            {"design": "lhs", "n": 4, "claims": ["personal > 0 on score", "persnal > 0 on score"]}
        )
