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
    # the other arms are at least at the reference: non-strict atoms (a tie does not break it)
    assert _atoms("only individualized is below standardized on sd_score") == [
        "individualized - standardized < 0 on sd_score",
        "personalized - standardized >= 0 on sd_score",
        "personal - standardized >= 0 on sd_score",
    ]
    assert _atoms("personal - standardized >= 0.1 on effect_size") == [
        "personal - standardized >= 0.1 on effect_size"
    ]
    assert _atoms("personal <= 0 on sd_score") == ["personal <= 0 on sd_score"]
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


def _evaluate(text, cube, arms):
    c = parse_claim(text, arms, list(cube))
    return evaluate_claims([c], cube, arms)[c.name]


@pytest.mark.parametrize("op", [">=", "<="])
def test_non_strict_comparisons_hold_on_an_exact_tie(op):
    """b equals a + 0.5 in every classroom: 'b - a >= 0.5' holds, decided; '>' fails, decided."""
    a = np.array([[0.1, 0.4, -0.2, 0.3]])
    cube = {"m": np.stack([a, a + 0.5], axis=1)}
    text = "b - a >= 0.5 on m" if op == ">=" else "a - b <= -0.5 on m"
    r = _evaluate(text, cube, ["a", "b"])
    assert r["margin"][0] == pytest.approx(0.0, abs=1e-12)
    assert bool(r["holds"][0]) and r["decided"][0] == "holds"
    strict = _evaluate(text.replace("=", ""), cube, ["a", "b"])
    assert not bool(strict["holds"][0]) and strict["decided"][0] == "fails"
    # levels too: b has exactly 1.0 in every classroom
    level = {"m": np.stack([a, np.ones((1, 4))], axis=1)}
    assert bool(_evaluate("b >= 1 on m", level, ["a", "b"])["holds"][0])
    assert bool(_evaluate("b <= 1 on m", level, ["a", "b"])["holds"][0])
    assert not bool(_evaluate("b > 1 on m", level, ["a", "b"])["holds"][0])


def test_only_holds_when_another_arm_ties_with_the_reference():
    """The headline form 'only individualized is below standardized': personal equal to
    standardized (an exact tie, as where a parameter makes them the same) must not break it."""
    rng = np.random.default_rng(4)
    std = rng.normal(1.0, 0.1, (5, 6))  # 5 points, 6 classrooms
    cube = {
        "sd_score": np.stack([std, std - 0.2, std + 0.1, std], axis=1)  # personal == standardized
    }
    r = _evaluate("only individualized is below standardized on sd_score", cube, ARMS)
    assert r["holds"].all() and (r["decided"] == "holds").all()
    # and it still fails where another arm is clearly below the reference
    cube["sd_score"][:, 3, :] = std - 0.3
    r = _evaluate("only individualized is below standardized on sd_score", cube, ARMS)
    assert not r["holds"].any() and (r["decided"] == "fails").all()


def test_a_missing_metric_or_an_empty_table_is_a_clear_error():
    from toolkit.robustness.analysis import metric_cube

    c = parse_claim("b - a > 0 on score", ["a", "b"], ["score"])
    cube = {"effect_size": np.zeros((2, 2, 3)), "sd_score": np.zeros((2, 2, 3))}
    with pytest.raises(ClaimError, match=r"'score'.*they have: effect_size, sd_score"):
        evaluate_claims([c], cube, ["a", "b"])
    with pytest.raises(ClaimError, match=r"arm 'b'.*they have: a"):
        evaluate_claims([c], {"score": np.zeros((2, 1, 3))}, ["a"])
    with pytest.raises(ClaimError, match="empty"):
        evaluate_claims([c], {"score": np.zeros((0, 2, 3))}, ["a", "b"])
    table = pd.DataFrame({"point": [0, 0], "year": [0, 0], "arm": ["a", "b"], "replicate": [0, 0],
                          "effect_size": [0.1, 0.2]})  # fmt: skip
    with pytest.raises(ValueError, match=r"metric 'score' is not in the results.*effect_size"):
        metric_cube(table, ["a", "b"], ["score"])
    with pytest.raises(ValueError, match="the results table is empty"):
        metric_cube(table.iloc[:0], ["a", "b"], ["effect_size"])
    with pytest.raises(ValueError, match="no rows for year 3"):
        metric_cube(table, ["a", "b"], ["effect_size"], year=3)
