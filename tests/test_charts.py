"""Image tests of the presenter charts: each chart on fixed data, checked artist by artist.

Every chart is drawn (Agg backend, see conftest.py) from small hand-made tables whose numbers
are known, then its artists are compared with those numbers: one dot and one whisker per arm
at the table's mean and CI, the regime's fixed colour, labels, crossover positions, violin
medians and quartiles, bar widths. The save helper is checked on the files it writes.
"""

import json
from pathlib import Path
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex, to_rgba
from matplotlib.patches import Rectangle
from PIL import Image

from toolkit.charts import (
    DIVERSITY_METRICS,
    DOMAIN_COLORS,
    METRIC_LABELS,
    REGIME_COLORS,
    SLIDE_SIZES,
    SPREAD_METRICS,
    chart_style,
    crossover_table,
    crossovers,
    domain_color,
    headline_figures,
    new_axes,
    plot_distribution,
    plot_diversity,
    plot_metric,
    plot_metrics,
    plot_spread,
    plot_strongest_domains,
    plot_study,
    plot_sweep,
    plot_tails,
    plot_trajectory,
    regime_color,
    save_figure,
)
from toolkit.charts.study import SHORT_LABELS

ARMS = ["standardized", "individualized", "personalized", "personal"]
METRICS = ["score", "effect_size", "total_learning", *SPREAD_METRICS, *DIVERSITY_METRICS]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _summary_rows(point=0, sweep_value=np.nan, year=0, offset=0.0, arms=ARMS, metrics=METRICS):
    rows = []
    for m_i, metric in enumerate(metrics):
        ref = 1.0 + m_i + offset
        for a_i, arm in enumerate(arms):
            mean = ref + 0.1 * a_i * (m_i + 1)
            diff = mean - ref
            rows.append(
                {
                    "point": point,
                    "sweep_value": sweep_value,
                    "year": year,
                    "arm": arm,
                    "metric": metric,
                    "mean": mean,
                    "ci_low": mean - 0.05 * (a_i + 1),
                    "ci_high": mean + 0.07 * (a_i + 1),
                    "diff": diff,
                    "diff_ci_low": np.nan if a_i == 0 else diff - 0.02 * a_i,
                    "diff_ci_high": np.nan if a_i == 0 else diff + 0.03 * a_i,
                    "p_val": np.nan,
                    "n_units": 10,
                }
            )
    return rows


def _frame(rows, arms=ARMS):
    df = pd.DataFrame(rows)
    df["arm"] = pd.Categorical(df["arm"], categories=arms)
    return df


@pytest.fixture
def summary():
    return _frame(_summary_rows())


@pytest.fixture
def sweep_summary():
    """Two arms over four sweep values; 'personal' crosses 'standardized' at 1.5 and 2.75."""
    ref = {0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0}
    other = {0: 0.6, 1: 0.8, 2: 1.2, 3: 0.9}  # diff -0.4, -0.2, +0.2, -0.1
    rows = []
    for p, x in enumerate([0.0, 1.0, 2.0, 3.0]):
        for arm, values in (("standardized", ref), ("personal", other)):
            m = values[p]
            rows.append(
                {"point": p, "sweep_value": x, "year": 0, "arm": arm, "metric": "effect_size",
                 "mean": m, "ci_low": m - 0.1, "ci_high": m + 0.1, "diff": m - 1.0,
                 "diff_ci_low": np.nan, "diff_ci_high": np.nan, "p_val": np.nan, "n_units": 5}
            )  # fmt: skip
    return _frame(rows, ["standardized", "personal"])


@pytest.fixture
def years_summary():
    rows = []
    for y in range(3):
        rows += _summary_rows(year=y, offset=0.5 * y, metrics=["score"])
    return _frame(rows)


@pytest.fixture
def tails():
    rows = []
    for a_i, arm in enumerate(ARMS):
        for q in range(1, 6):
            m = 0.1 * q + 0.05 * a_i
            rows.append(
                {"point": 0, "year": 0, "arm": arm, "quintile": q, "value": "core_gain",
                 "mean": m, "ci_low": m - 0.02, "ci_high": m + 0.02, "diff": 0.05 * a_i,
                 "diff_ci_low": np.nan, "diff_ci_high": np.nan, "n_units": 8}
            )  # fmt: skip
    return _frame(rows)


@pytest.fixture
def students():
    """300 students per arm with known score distributions; strongest domains by design."""
    rng = np.random.default_rng(1)
    frames = []
    for a_i, arm in enumerate(ARMS):
        n = 300
        skills = np.zeros((n, 4))
        # arm a_i: the first (a_i + 1) * 60 students are strongest in reading, the rest in maths
        k = (a_i + 1) * 60
        skills[:k, 1] = 1.0
        skills[k:, 0] = 1.0
        frames.append(
            pd.DataFrame(
                {
                    "point": 0,
                    "year": 0,
                    "arm": arm,
                    "score": rng.normal(0.2 * a_i, 1.0 + 0.2 * a_i, n),
                    "total_learning": rng.gamma(4.0, 0.25 + 0.05 * a_i, n),
                    "skill_mathematics": skills[:, 0],
                    "skill_reading": skills[:, 1],
                    "skill_arts": skills[:, 2] - 1,
                    "skill_technology": skills[:, 3] - 1,
                }
            )
        )
    return _frame(pd.concat(frames, ignore_index=True).to_dict("records"))


def _dots(ax):
    """Marker-only lines (the dots), as {label or index: Line2D}."""
    return [ln for ln in ax.lines if ln.get_marker() == "o" and ln.get_linestyle() == "None"]


def _whiskers(ax):
    """The CI whiskers: thick two-point lines."""
    return [ln for ln in ax.lines if ln.get_linewidth() == 3 and len(ln.get_xdata()) == 2]


def _hex(c):
    return to_hex(c, keep_alpha=False).upper()


# --- palette and axes ---
def test_fixed_colours_are_okabe_ito_and_distinct():
    assert list(REGIME_COLORS) == ARMS
    assert len(set(REGIME_COLORS.values())) == 4
    for arm, c in REGIME_COLORS.items():
        assert regime_color(arm) == c
    # extra arms get distinct colours that are not regime colours
    extra = [regime_color(n, ["transition", "mix"]) for n in ("transition", "mix")]
    assert len(set(extra)) == 2 and not set(extra) & set(REGIME_COLORS.values())
    assert domain_color("arts") == DOMAIN_COLORS["arts"]
    assert not set(DOMAIN_COLORS.values()) & set(REGIME_COLORS.values())


def test_new_axes_is_slide_sized_with_constrained_layout():
    ax = new_axes(size="4:3")
    assert tuple(ax.figure.get_size_inches()) == pytest.approx(SLIDE_SIZES["4:3"])
    assert ax.figure.get_layout_engine() is not None
    given = plt.subplots()[1]
    assert new_axes(given) is given


# --- summary charts ---
def test_plot_metric_draws_each_arms_mean_and_ci_in_its_colour(summary):
    ax = plot_metric(summary, "total_learning")
    assert isinstance(ax, Axes)
    s = summary[summary.metric == "total_learning"].reset_index()
    dots, whiskers = _dots(ax), _whiskers(ax)
    assert len(dots) == len(whiskers) == 4
    labels = [t.get_text() for t in ax.get_yticklabels()]
    ys = list(ax.get_yticks())
    assert dict(zip(labels, ys, strict=True)) == {a: 3 - i for i, a in enumerate(ARMS)}  # top down
    for dot, wh, (_, row) in zip(dots, whiskers, s.iterrows(), strict=True):
        assert _hex(dot.get_color()) == REGIME_COLORS[row.arm]
        assert _hex(wh.get_color()) == REGIME_COLORS[row.arm]
        assert dot.get_xdata()[0] == pytest.approx(row["mean"])
        assert list(wh.get_xdata()) == pytest.approx([row.ci_low, row.ci_high])
    assert ax.get_title(loc="left") == METRIC_LABELS["total_learning"]


def test_plot_metric_difference_uses_paired_cis_and_zero_line(summary):
    ax = plot_metric(summary, "score", difference=True)
    s = summary[summary.metric == "score"].reset_index()
    for dot, (_, row) in zip(_dots(ax), s.iterrows(), strict=True):
        assert dot.get_xdata()[0] == pytest.approx(row["diff"])
    wh = _whiskers(ax)
    # the reference has no interval (NaN): its whisker is drawn from NaN and shows nothing
    finite = [w for w in wh if np.isfinite(w.get_xdata()).all()]
    np.testing.assert_allclose(
        [w.get_xdata() for w in finite], s.loc[1:, ["diff_ci_low", "diff_ci_high"]].to_numpy()
    )
    assert any(list(ln.get_xdata()) == [0, 0] for ln in ax.lines)  # axvline at 0
    assert ax.get_xlabel() == "difference vs standardized"


def test_plot_metrics_groups_metrics_and_dodges_arms(summary):
    metrics = ["sd_score", "p90_p10"]
    ax = plot_metrics(summary, metrics)
    dots = _dots(ax)
    assert len(dots) == 2 * 4
    by_label = {d.get_label(): d for d in dots}
    for metric in metrics:
        s = summary[summary.metric == metric]
        for row in s.itertuples():
            d = by_label[f"{row.arm}|{metric}"]
            assert d.get_xdata()[0] == pytest.approx(row.mean)
            assert _hex(d.get_color()) == REGIME_COLORS[row.arm]
    # arms keep their order inside each metric's row, metrics top to bottom
    ys = [by_label[f"{a}|sd_score"].get_ydata()[0] for a in ARMS]
    assert ys == sorted(ys, reverse=True)
    assert (
        by_label["personal|sd_score"].get_ydata()[0]
        > by_label["standardized|p90_p10"].get_ydata()[0]
    )
    assert [t.get_text() for t in ax.get_yticklabels()] == [SHORT_LABELS[m] for m in metrics]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ARMS
    with pytest.raises(ValueError, match="at least one"):
        plot_metrics(summary, [])


def test_plot_spread_and_plot_diversity(summary):
    ax = plot_spread(summary)
    assert len(_dots(ax)) == len(SPREAD_METRICS) * 4
    assert "SD" in ax.get_xlabel()
    ax = plot_diversity(summary)
    by_label = {d.get_label(): d for d in _dots(ax)}
    assert len(by_label) == len(DIVERSITY_METRICS) * 4
    for metric in DIVERSITY_METRICS:
        s = summary[summary.metric == metric].set_index("arm", drop=False)
        ref = s.loc["standardized", "mean"]
        for row in s.itertuples(index=False):
            # relative: the paired difference in % of the reference mean
            assert by_label[f"{row.arm}|{metric}"].get_xdata()[0] == pytest.approx(
                100 * row.diff / ref
            )
    finite = [w for w in _whiskers(ax) if np.isfinite(w.get_xdata()).all()]
    s = summary[(summary.metric == "rao_q") & (summary.arm == "personal")].iloc[0]
    ref = summary[(summary.metric == "rao_q") & (summary.arm == "standardized")]["mean"].item()
    expected = [100 * s.diff_ci_low / ref, 100 * s.diff_ci_high / ref]
    assert any(list(w.get_xdata()) == pytest.approx(expected) for w in finite)
    assert ax.get_xlabel() == "% difference vs standardized"


def test_plot_tails_one_line_per_arm_over_quintiles(tails):
    ax = plot_tails(tails)
    lines = [ln for ln in ax.lines if ln.get_label() in ARMS]
    assert [ln.get_label() for ln in lines] == ARMS
    for ln in lines:
        t = tails[tails.arm == ln.get_label()].sort_values("quintile")
        assert list(ln.get_xdata()) == [1, 2, 3, 4, 5]
        assert list(ln.get_ydata()) == pytest.approx(t["mean"].tolist())
        assert _hex(ln.get_color()) == REGIME_COLORS[ln.get_label()]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 4
    assert ax.get_xticklabels()[0].get_text().startswith("Q1")


def test_crossovers_interpolate_sign_changes(sweep_summary):
    assert crossovers(sweep_summary, "effect_size", "personal", "standardized") == pytest.approx(
        [1.5, 2 + 0.2 / 0.3]
    )
    with pytest.raises(ValueError, match="must both be"):
        crossovers(sweep_summary, "effect_size", "personal", "nobody")


def test_crossover_table_names_the_leader_on_each_side(sweep_summary):
    t = crossover_table(sweep_summary, ["effect_size"])
    assert t["at"].tolist() == pytest.approx([1.5, 2 + 0.2 / 0.3])
    # personal is below standardized, then above it between 1.5 and 2.67, then below again
    assert t[["below", "above"]].values.tolist() == [
        ["standardized", "personal"],
        ["personal", "standardized"],
    ]
    assert crossover_table(sweep_summary, ["effect_size"]).columns.tolist() == [
        "metric",
        "at",
        "below",
        "above",
    ]


def test_plot_sweep_marks_crossovers_at_the_interpolated_values(sweep_summary):
    ax = plot_sweep(sweep_summary, "effect_size", parameter="teacher_capacity")
    lines = {
        ln.get_label(): ln for ln in ax.lines if ln.get_label() in ("standardized", "personal")
    }
    assert list(lines["personal"].get_xdata()) == [0, 1, 2, 3]
    assert list(lines["personal"].get_ydata()) == pytest.approx([0.6, 0.8, 1.2, 0.9])
    vlines = sorted(
        (ln for ln in ax.lines if ln.get_linestyle() == ":"), key=lambda ln: ln.get_xdata()[0]
    )
    xs = [ln.get_xdata()[0] for ln in vlines]
    assert xs == pytest.approx([1.5, 2 + 0.2 / 0.3])
    # each in the colour of the arm ahead beyond it: personal after 1.5, standardized after 2.67
    assert [_hex(ln.get_color()) for ln in vlines] == [
        REGIME_COLORS["personal"],
        REGIME_COLORS["standardized"],
    ]
    assert sorted(t.get_text() for t in ax.texts) == ["1.5", "2.67"]
    assert ax.get_xlabel() == "teacher_capacity"
    ax2 = plot_sweep(sweep_summary, "effect_size", mark_crossovers=False)
    assert not [ln for ln in ax2.lines if ln.get_linestyle() == ":"]


def _sweep_rows(lines, xs=(0.0, 1.0, 2.0, 3.0), metric="effect_size"):
    rows = []
    for p, x in enumerate(xs):
        for arm, values in lines.items():
            m = values[p]
            rows.append(
                {"point": p, "sweep_value": x, "year": 0, "arm": arm, "metric": metric,
                 "mean": m, "ci_low": m - 0.01, "ci_high": m + 0.01, "diff": np.nan,
                 "diff_ci_low": np.nan, "diff_ci_high": np.nan, "p_val": np.nan, "n_units": 5}
            )  # fmt: skip
    return _frame(rows, list(lines))


@pytest.fixture
def three_arm_sweep():
    """individualized and personalized cross each other at 1.5; neither crosses standardized."""
    return _sweep_rows(
        {
            "standardized": [0.0, 0.0, 0.0, 0.0],
            "individualized": [0.1, 0.2, 0.4, 0.5],
            "personalized": [0.3, 0.3, 0.3, 0.3],
        }
    )


def test_plot_sweep_marks_crossings_between_any_two_arms(three_arm_sweep):
    ax = plot_sweep(three_arm_sweep, "effect_size")
    vlines = [ln for ln in ax.lines if ln.get_linestyle() == ":"]
    assert [ln.get_xdata()[0] for ln in vlines] == pytest.approx([1.5])
    assert _hex(vlines[0].get_color()) == REGIME_COLORS["individualized"]  # ahead beyond 1.5
    (ring,) = [ln for ln in ax.lines if ln.get_label().startswith("crossing|")]
    assert ring.get_label() == "crossing|personalized|individualized"
    assert (ring.get_xdata()[0], ring.get_ydata()[0]) == pytest.approx((1.5, 0.3))
    assert [t.get_text() for t in ax.texts] == ["1.5"]
    # the legend lists the arms only, not the marks
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(
        three_arm_sweep.arm.cat.categories
    )
    # restricted to crossings with one arm, there are none here
    ax = plot_sweep(three_arm_sweep, "effect_size", reference="standardized")
    assert not [ln for ln in ax.lines if ln.get_linestyle() == ":"] and not ax.texts
    with pytest.raises(ValueError, match="not one of the arms"):
        plot_sweep(three_arm_sweep, "effect_size", reference="nobody")


def test_crossover_table_lists_every_pair_of_arms():
    s = _sweep_rows({"a": [0.0, 3.0], "b": [1.0, 2.0], "c": [2.0, 0.0]}, xs=(0.0, 1.0))
    t = crossover_table(s, ["effect_size"])
    pairs = {frozenset((r.below, r.above)): r.at for r in t.itertuples()}
    assert pairs == pytest.approx(
        {frozenset("ab"): 0.5, frozenset("ac"): 0.4, frozenset("bc"): 1 / 3}
    )
    assert t["at"].tolist() == pytest.approx([1 / 3, 0.4, 0.5])  # sorted by position
    assert t[["below", "above"]].values.tolist() == [["c", "b"], ["c", "a"], ["b", "a"]]


def test_lines_that_touch_or_coincide_do_not_cross():
    s = _sweep_rows(
        {
            "a": [0.0, 1.0, 0.0, 1.0],
            "same": [0.0, 1.0, 0.0, 1.0],  # identical to a: never crosses it
            "touch": [1.0, 1.0, 1.0, 1.0],  # meets a at 1 and 3 without passing it
            "cross": [-1.0, 0.0, 0.0, 1.0 / 3],  # meets a at 2 and turns back
        }
    )
    # a - touch: -1, 0, -1, 0; a - cross: 1, 1, 0, 2/3; touch - cross: 2, 1, 1, 2/3
    assert crossover_table(s, ["effect_size"]).empty
    assert crossovers(s, "effect_size", "a", "same") == []
    assert crossovers(s, "effect_size", "a", "touch") == []
    # a sign change through an exact zero at a sweep value crosses there
    s2 = _sweep_rows({"x": [-1.0, 0.0, 1.0, 2.0], "y": [0.0, 0.0, 0.0, 0.0]})
    assert crossovers(s2, "effect_size", "x", "y") == [1.0]


def test_plot_trajectory_over_school_years(years_summary):
    ax = plot_trajectory(years_summary, "score")
    lines = {ln.get_label(): ln for ln in ax.lines if ln.get_label() in ARMS}
    assert len(lines) == 4
    for arm, ln in lines.items():
        s = years_summary[years_summary.arm == arm].sort_values("year")
        assert list(ln.get_xdata()) == [1, 2, 3]
        assert list(ln.get_ydata()) == pytest.approx(s["mean"].tolist())
        assert _hex(ln.get_color()) == REGIME_COLORS[arm]
    assert ax.get_xlabel() == "School year"


def test_headline_figures_have_one_panel_per_metric(summary, tails):
    figs = headline_figures(summary, tails)
    assert set(figs) == {"outcome", "effects", "spread", "diversity", "tails"}
    spread = [ax for ax in figs["spread"].axes if ax.get_visible()]
    # spread panel asks for sd_score, p90_p10, gini, matthew: the fixture has the first two
    assert [ax.get_title(loc="left") for ax in spread] == [
        METRIC_LABELS["sd_score"],
        METRIC_LABELS["p90_p10"],
    ]
    assert tuple(figs["outcome"].get_size_inches()) == pytest.approx(SLIDE_SIZES["16:9"])


def test_plot_study_picks_the_key_chart(summary, sweep_summary, years_summary):
    comparison = SimpleNamespace(summary=summary, manifest={"study": {"sweep": None}})
    ax = plot_study(comparison)
    assert ax.get_title(loc="left") == METRIC_LABELS["effect_size"] and len(_dots(ax)) == 4
    sweep = SimpleNamespace(
        summary=sweep_summary,
        manifest={"study": {"sweep": {"parameter": "peer_learning"}, "reference": "standardized"}},
    )
    ax = plot_study(sweep)
    assert ax.get_xlabel() == "peer_learning"
    assert len([ln for ln in ax.lines if ln.get_linestyle() == ":"]) == 2
    years = SimpleNamespace(summary=years_summary, manifest={"study": {}})
    assert plot_study(years).get_xlabel() == "School year"


# --- student-level charts ---
@pytest.mark.parametrize("kind", ["violin", "ridgeline"])
def test_plot_distribution_one_shape_per_arm_with_quartiles(students, kind):
    ax = plot_distribution(students, "score", kind=kind)
    shapes = [c for c in ax.collections if c.get_label() in ARMS]
    assert [c.get_label() for c in shapes] == ARMS
    for c in shapes:
        assert to_rgba(c.get_facecolor()[0])[:3] == pytest.approx(
            to_rgba(REGIME_COLORS[c.get_label()])[:3]
        )
    medians = {
        ln.get_label().split("|")[1]: ln for ln in ax.lines if ln.get_label().startswith("median|")
    }
    bars = [ln for ln in ax.lines if ln.get_linewidth() == 6]
    assert len(medians) == len(bars) == 4
    for i, arm in enumerate(ARMS):
        x = students.loc[students.arm == arm, "score"]
        assert medians[arm].get_xdata()[0] == pytest.approx(np.median(x))
        assert list(bars[i].get_xdata()) == pytest.approx(np.percentile(x, [25, 75]).tolist())
        assert bars[i].get_ydata()[0] == medians[arm].get_ydata()[0] == 3 - i
    assert [t.get_text() for t in ax.get_yticklabels()] == ARMS
    assert ax.get_xlabel() == "Test score (core domains, SD)"


def test_violins_follow_the_data(students):
    ax = plot_distribution(students, "score")
    bodies = [c for c in ax.collections if c.get_label() in ARMS]
    for body, arm in zip(bodies, ARMS, strict=True):
        x = students.loc[students.arm == arm, "score"]
        xs = body.get_paths()[0].vertices[:, 0]
        # violins span the data's range (matplotlib's KDE is evaluated from min to max)
        assert xs.min() == pytest.approx(x.min()) and xs.max() == pytest.approx(x.max())
    # the widest violin is the arm with the largest SD
    spans = [np.ptp(b.get_paths()[0].vertices[:, 0]) for b in bodies]
    assert np.argmax(spans) == 3


def test_ridgeline_peaks_near_the_mode(students):
    ax = plot_distribution(students, "total_learning", kind="ridgeline", arms=["personal"])
    (fill,) = [c for c in ax.collections if c.get_label() == "personal"]
    v = fill.get_paths()[0].vertices
    peak_x = v[np.argmax(v[:, 1]), 0]
    x = students.loc[students.arm == "personal", "total_learning"]
    mode = 3 * (0.25 + 0.05 * 3)  # gamma(k=4, theta): (k - 1) * theta
    assert abs(peak_x - mode) < 0.3 and x.min() <= peak_x <= x.max()
    with pytest.raises(ValueError, match="not in the student table"):
        plot_distribution(students, arms=["nobody"])
    with pytest.raises(ValueError, match="kind"):
        plot_distribution(students, kind="box")


def test_plot_strongest_domains_bar_widths_are_the_shares(students):
    ax = plot_strongest_domains(students)
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == 4 * 4
    for i in range(len(ARMS)):
        row = [b for b in bars if b.get_y() + b.get_height() / 2 == pytest.approx(3 - i)]
        widths = {_hex(b.get_facecolor()): b.get_width() for b in row}
        reading = (i + 1) * 60 / 300
        assert widths[DOMAIN_COLORS["reading"]] == pytest.approx(reading)
        assert widths[DOMAIN_COLORS["mathematics"]] == pytest.approx(1 - reading)
        assert sum(widths.values()) == pytest.approx(1.0)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(DOMAIN_COLORS)
    assert "20%" in {t.get_text() for t in ax.texts}


@pytest.mark.parametrize(
    "draw",
    [
        lambda d, ax: plot_metric(d["summary"], "score", ax=ax),
        lambda d, ax: plot_metrics(d["summary"], ["score"], ax=ax),
        lambda d, ax: plot_spread(d["summary"], ax=ax),
        lambda d, ax: plot_diversity(d["summary"], ax=ax),
        lambda d, ax: plot_tails(d["tails"], ax=ax),
        lambda d, ax: plot_sweep(d["sweep"], "effect_size", ax=ax),
        lambda d, ax: plot_trajectory(d["years"], "score", ax=ax),
        lambda d, ax: plot_distribution(d["students"], ax=ax),
        lambda d, ax: plot_strongest_domains(d["students"], ax=ax),
    ],
)
def test_every_chart_draws_on_the_given_axes(
    draw, summary, tails, sweep_summary, years_summary, students
):
    data = {"summary": summary, "tails": tails, "sweep": sweep_summary, "years": years_summary,
            "students": students}  # fmt: skip
    _, (ax, other) = plt.subplots(1, 2)
    assert draw(data, ax) is ax
    assert ax.has_data() and not other.has_data()


def test_likert_bars_from_the_survey_helpers_in_the_same_style():
    from toolkit.charts import likert_bars, survey

    assert likert_bars is survey.likert_bars
    data = pd.DataFrame({"q1": [1, 2, 3, 4, 5, 5, 4, 4], "q2": [1, 1, 2, 3, 3, 3, 4, 5]})
    ax = likert_bars(data, ["q1", "q2"], levels=[1, 2, 3, 4, 5])
    assert tuple(ax.figure.get_size_inches()) == pytest.approx(SLIDE_SIZES["16:9"])
    assert ax.title.get_fontsize() == 20 and ax.xaxis.label.get_fontsize() == 17  # chart_style
    # q1: 1/8 each on levels 1 to 3, neutral (3) centred on zero; 3/8 on 4, 2/8 on 5
    bars = {c.get_label(): c.patches for c in ax.containers}
    assert [round(p.get_width(), 6) for p in bars["4"]] == [37.5, 12.5]
    q1_neutral = bars["3"][0]
    assert q1_neutral.get_x() == pytest.approx(-q1_neutral.get_width() / 2)


# --- saving ---
@pytest.mark.parametrize(("size", "pixels"), [("16:9", (2666, 1500)), ("4:3", (2000, 1500))])
def test_save_figure_writes_slide_sizes_with_provenance(tmp_path, summary, size, pixels):
    ax = plot_metric(summary, "score")
    line = "headline | seed 7 | toolkit 0.1.0 | commit abc12345"
    paths = save_figure(ax.figure, tmp_path / "chart.png", formats=["png", "svg", "pdf"],
                        size=size, provenance=line)  # fmt: skip
    assert [p.name for p in paths] == ["chart.png", "chart.svg", "chart.pdf"]
    with Image.open(paths[0]) as im:
        assert im.size == pixels  # exact slide size: 200 dpi, nothing cropped
        assert im.info["Description"] == line
    svg = paths[1].read_text()
    assert line in svg
    assert (
        paths[2].read_bytes().startswith(b"%PDF") and b"headline | seed 7" in paths[2].read_bytes()
    )
    # the provenance line sits inside the canvas, below every axes
    fig = ax.figure
    fig.canvas.draw()
    (cap,) = [t for t in fig.texts if t.get_gid() == "provenance"]
    box = cap.get_window_extent()
    assert box.y0 >= 0 and box.x0 >= 0
    assert box.y1 <= min(a.get_tightbbox().y0 for a in fig.axes) + 1


def test_a_figure_wide_x_label_stays_above_the_provenance_line(tmp_path):
    """Multi-panel charts (the robustness report's sensitivity of each metric) label their x
    axis once, with supxlabel, which the layout puts at the canvas' foot: where the line is."""
    with chart_style():
        fig, axes = plt.subplots(1, 3, figsize=SLIDE_SIZES["16:9"], layout="constrained")
    for ax in axes:
        ax.barh(["p", "q", "r"], [0.2, 0.5, 0.1])
        ax.set_title("personalized - standardized", loc="left")
    fig.supxlabel("total Sobol' index (ST)", fontsize=15)
    line = ("headline-robustness | simulations/headline-robustness.toml | sobol n=256 | seed "
            "20261208 | 30 classrooms/arm/point | toolkit 0.1.0 | commit abcdef12")  # fmt: skip
    save_figure(fig, tmp_path / "panels", formats=["png"], provenance=line)
    renderer = fig.canvas.get_renderer()
    (cap,) = [t for t in fig.texts if t.get_gid() == "provenance"]
    sup, prov = fig._supxlabel.get_window_extent(renderer), cap.get_window_extent(renderer)
    assert sup.y0 > prov.y1  # above the line, not over it
    assert all(sup.y1 <= ax.get_tightbbox(renderer).y0 + 1 for ax in axes)  # below the panels
    assert prov.y0 >= 0 and sup.x0 >= 0 and sup.x1 <= fig.bbox.width
    plt.close(fig)


def test_long_provenance_line_fits_the_slide(tmp_path, summary):
    ax = plot_metric(summary, "score")
    line = "a long provenance line | " * 7  # 175 characters, as a sweep's line can be
    save_figure(ax.figure, tmp_path / "long", formats=["png"], size="4:3", provenance=line)
    (cap,) = [t for t in ax.figure.texts if t.get_gid() == "provenance"]
    box = cap.get_window_extent(renderer=ax.figure.canvas.get_renderer())
    assert box.x1 <= ax.figure.bbox.width and cap.get_fontsize() < 9


def test_save_figure_default_and_no_provenance(tmp_path, summary):
    ax = plot_metric(summary, "score")
    save_figure(ax.figure, tmp_path / "a", formats=["png"])
    with Image.open(tmp_path / "a.png") as im:
        assert im.info["Description"].startswith("toolkit ") and "commit" in im.info["Description"]
    ax = plot_metric(summary, "score")
    save_figure(ax.figure, tmp_path / "b", formats=["png"], provenance=False)
    assert not [t for t in ax.figure.texts if t.get_gid() == "provenance"]
    with Image.open(tmp_path / "b.png") as im:
        assert "Description" not in im.info
    with pytest.raises(ValueError, match="'gif'"):
        save_figure(ax.figure, tmp_path / "c", formats=["png", "gif"])
    assert not (tmp_path / "c.png").exists()  # nothing written before the error


def test_save_figure_without_layout_engine_crops_to_contents(tmp_path):
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("x")
    save_figure(fig, tmp_path / "t", formats=["png"], provenance="a line", dpi=100)
    (cap,) = [t for t in fig.texts if t.get_gid() == "provenance"]
    assert cap.get_position()[1] < 0  # below the canvas; bbox "tight" extends the image to it
    with Image.open(tmp_path / "t.png") as im:
        assert im.size != (400, 300)


def test_run_figures_are_exact_slides(tmp_path):
    """The figures a study run writes keep their slide size (they use constrained layout)."""
    from toolkit.study import parse_study, run_study

    spec = parse_study({"study": {"name": "tiny", "seed": 3, "classrooms": 3},
                        "parameters": {"n_students": 8, "n_days": 5, "peer_ties": 2},
                        "output": {"formats": ["png"]}})  # fmt: skip
    result = run_study(spec, tmp_path / "run", progress=False)
    manifest = json.loads((result.folder / "manifest.json").read_text())
    with Image.open(result.folder / "figures" / "effects.png") as im:
        assert im.size == (2666, 1500)
        assert f"seed {manifest['master_seed']}" in im.info["Description"]
    assert Path(result.folder / "figures" / "tails.png").is_file()


def test_style_keeps_settings_changed_by_others_while_active():
    """Jupyter's inline backend switches interactive mode on inside the first styled figure."""
    import matplotlib as mpl

    from toolkit.charts.style import _RC, chart_style

    was_interactive, size, font = (
        mpl.is_interactive(),
        mpl.rcParams["lines.markersize"],
        mpl.rcParams["font.size"],
    )
    assert "lines.markersize" not in _RC
    try:
        mpl.interactive(False)
        with chart_style():
            assert mpl.rcParams["font.size"] == _RC["font.size"]
            mpl.interactive(True)  # what the inline backend does when it loads
            mpl.rcParams["lines.markersize"] = 7.3  # a setting outside the style
        assert mpl.is_interactive() and mpl.rcParams["lines.markersize"] == 7.3
        assert mpl.rcParams["font.size"] == font  # the style itself is restored
    finally:
        mpl.interactive(was_interactive)
        mpl.rcParams["lines.markersize"] = size


@pytest.mark.slow
@pytest.mark.notebook
def test_figures_after_a_toolkit_chart_still_show_in_jupyter():
    import nbclient
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "from toolkit.charts.style import new_axes\nax = new_axes()\nax.plot([1, 2])"
        ),
        nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nplt.plot([1, 2])"),
    ]
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    for cell in nb.cells:
        assert any("image/png" in o.get("data", {}) for o in cell.outputs)


# --- titles, labels and text inside the figure at slide sizes ----------------------------------
def _drawn_texts(fig):
    """Every text the figure draws: titles, axis labels, tick labels in view, legends, notes."""
    out = [*fig.texts]
    if fig._suptitle is not None:
        out.append(fig._suptitle)
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        out += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
        out += ax.texts
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks():
                if lo - 1e-9 <= tick.get_loc() <= hi + 1e-9:
                    out += [tick.label1, tick.label2]
        if ax.get_legend() is not None:
            out += ax.get_legend().get_texts()
    return [t for t in out if t.get_visible() and t.get_text().strip()]


def _layout_problems(fig):
    """Texts outside the figure (renderer extents), and panel titles that overlap."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    problems = []
    for t in _drawn_texts(fig):
        b = t.get_window_extent(renderer)
        if b.x0 < box.x0 - 0.5 or b.x1 > box.x1 + 0.5 or b.y0 < box.y0 - 0.5 or b.y1 > box.y1 + 0.5:
            problems.append(f"outside: {t.get_text()!r} {b.bounds}")
    titles = [
        t
        for ax in fig.axes
        if ax.get_visible()
        for t in (ax.title, ax._left_title, ax._right_title)
        if t.get_text()
    ]
    for i, a in enumerate(titles):
        for b in titles[i + 1 :]:
            if a.get_window_extent(renderer).overlaps(b.get_window_extent(renderer)):
                problems.append(f"overlap: {a.get_text()!r} and {b.get_text()!r}")
    return problems


@pytest.fixture
def full_summary():
    """Every summary metric, with small signed values (wide tick labels such as '-0.25').

    With these, the right-hand titles of the 16:9 outcome figure ran past the figure's edge.
    """
    from toolkit.study.analysis import SUMMARY_METRICS

    rows = _summary_rows(metrics=list(SUMMARY_METRICS))
    for r in rows:
        for c in ("mean", "ci_low", "ci_high"):
            r[c] = (r[c] - 3.0) / 7.0
        for c in ("diff", "diff_ci_low", "diff_ci_high"):
            r[c] = r[c] / 7.0
    return _frame(rows)


def test_every_panel_of_the_headline_figures_has_a_title_and_an_x_label(full_summary, tails):
    figs = headline_figures(full_summary, tails)
    assert set(figs) == {"outcome", "effects", "spread", "diversity", "tails"}
    for name, fig in figs.items():
        panels = [ax for ax in fig.axes if ax.get_visible()]
        assert panels, name
        if name != "tails":
            assert fig.get_suptitle(), name
        for ax in panels:
            assert ax.get_title(loc="left"), name
            assert ax.get_xlabel(), (name, ax.get_title(loc="left"))
    effect = next(ax for ax in figs["effects"].axes if ax.get_title(loc="left").startswith("Eff"))
    assert effect.get_xlabel() == "effect size vs standardized (SD)"
    others = [ax.get_xlabel() for ax in figs["effects"].axes if ax is not effect]
    assert set(others) == {"difference vs standardized"}
    assert {ax.get_xlabel() for ax in figs["outcome"].axes} == {"mean over classrooms (95% CI)"}


#: A provenance line as long as a run with a few overrides makes (about 200 characters).
LONG_LINE = (
    "sweep-teacher-capacity | simulations/sweep-teacher-capacity.toml --classrooms 20 --set "
    "zpd_width=2 --set learning_rate=0.03 | seed 20261201 | 20 classrooms/arm | 1 year(s) | "
    "engine fast | toolkit 0.1.0 | commit 1dbe1dc0+dirty"
)


@pytest.mark.parametrize("size", ["16:9", "4:3"])
def test_headline_figures_keep_their_text_inside_at_slide_sizes(
    tmp_path, full_summary, tails, size
):
    for name, fig in headline_figures(full_summary, tails).items():
        if size == "16:9":  # as made, before any saving
            assert _layout_problems(fig) == [], name
        save_figure(fig, tmp_path / name, formats=["png"], size=size, provenance=LONG_LINE, dpi=30)
        assert _layout_problems(fig) == [], (name, size)


def _gallery_inputs(stem, summary, students, sweep_summary, years_summary):
    from toolkit.gallery import CHARTS

    study = CHARTS[stem][0]
    if study is None:
        return None, None
    table = {"sweep-teacher-capacity.toml": sweep_summary, "years.toml": years_summary}
    result = SimpleNamespace(summary=table.get(study, summary), students=students)
    return result, SimpleNamespace(sweep_parameter="teacher_capacity")


@pytest.mark.parametrize("size", ["16:9", "4:3"])
def test_every_gallery_chart_has_a_title_and_keeps_its_text_inside(
    tmp_path, full_summary, students, sweep_summary, years_summary, size
):
    from toolkit.gallery import CHARTS, draw_chart

    for stem in CHARTS:
        result, spec = _gallery_inputs(stem, full_summary, students, sweep_summary, years_summary)
        ax = draw_chart(stem, result, spec, _evidence_table())
        assert ax.get_title(loc="left") or ax.get_title(), stem
        assert ax.get_xlabel(), stem
        save_figure(ax.figure, tmp_path / stem, formats=["png"], size=size, provenance="p", dpi=30)
        assert _layout_problems(ax.figure) == [], (stem, size)
        plt.close(ax.figure)


def test_fit_text_wraps_a_title_too_long_for_its_panel():
    from toolkit.charts import fit_text

    fig, (a, b) = plt.subplots(1, 2, figsize=SLIDE_SIZES["4:3"], layout="constrained")
    long = "A title that is much too long to fit above one of two panels on a slide"
    a.set_title(long, loc="left", fontsize=20)
    b.set_title("Right", loc="left", fontsize=20)
    assert _layout_problems(fig)  # overlaps the right panel's title and leaves the figure
    fit_text(fig)
    assert _layout_problems(fig) == []
    assert a.get_title(loc="left").replace("\n", " ") == long  # wrapped, not cut
    assert a.get_title(loc="left").count("\n") >= 1
    assert a._left_title.get_fontsize() == 20  # wrapped between words, not shrunk


@pytest.mark.parametrize("title", ["Short", "A title far too long for one of two panels"])
def test_save_figure_lays_a_figure_out_once_and_the_file_is_the_same(tmp_path, monkeypatch, title):
    """The layout pass that finds nothing more to wrap is the saved layout: the engine does
    not run again for the save (one pass when nothing wraps, two when a title wraps), and the
    PNG is the one a further layout pass at the PNG's resolution gives, pixel for pixel."""
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    from toolkit.charts import style

    def figure():
        fig, (a, b) = plt.subplots(1, 2, figsize=SLIDE_SIZES["4:3"], layout="constrained")
        a.set_title(title, loc="left", fontsize=20)
        b.set_title("Right", loc="left", fontsize=20)
        a.plot([0, 1], [0, 1])
        return fig

    passes = []
    real = ConstrainedLayoutEngine.execute
    monkeypatch.setattr(
        ConstrainedLayoutEngine, "execute", lambda e, f: passes.append(1) or real(e, f)
    )
    save_figure(figure(), tmp_path / "once", formats=["png"], provenance="p", dpi=120)
    assert len(passes) == (1 if title == "Short" else 2)
    fitted = style._fit_text
    monkeypatch.setattr(style, "_fit_text", lambda fig: fitted(fig) and False)  # pass again
    save_figure(figure(), tmp_path / "again", formats=["png"], provenance="p", dpi=120)
    assert len(passes) == (3 if title == "Short" else 5)
    once = np.asarray(Image.open(tmp_path / "once.png"))
    assert np.array_equal(once, np.asarray(Image.open(tmp_path / "again.png")))


def _evidence_table():
    root = Path(__file__).resolve().parents[1]
    return pd.read_csv(root / "simulations" / "evidence-headline.csv")


def test_prior_posterior_chart_draws_each_contrast_from_both_sources():
    from toolkit.charts import plot_prior_posterior

    table = _evidence_table()
    ax = plot_prior_posterior(table, "test")
    effects = table[(table["metric"] == "test") & (table["kind"] == "effect")]
    contrasts = list(dict.fromkeys(effects["contrast"]))
    assert [t.get_text() for t in ax.get_yticklabels()] == contrasts
    # one interval line and one median dot per contrast and source, at the table's numbers
    post = effects[effects["source"] == "posterior"].set_index("contrast")
    spans = {tuple(np.round(line.get_xdata(), 4)) for line in ax.get_lines()}
    for c in contrasts:
        assert (round(post.loc[c, "q05"], 4), round(post.loc[c, "q95"], 4)) in spans
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [
        "prior predictive (assumptions only)",
        "posterior predictive (after the trial record)",
    ]
    notes = [t.get_text() for t in ax.texts]
    assert f"P(>0) = {post.loc[contrasts[0], 'p_positive']:.2f}" in notes
    plt.close(ax.figure)


def test_prior_posterior_chart_names_what_is_missing():
    from toolkit.charts import plot_prior_posterior

    table = _evidence_table()
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['q95'\]"):
        plot_prior_posterior(table.drop(columns="q95"))
    with pytest.raises(ValueError, match="no 'posterior' rows for metric 'test'"):
        plot_prior_posterior(table[table["source"] != "posterior"])


@pytest.mark.parametrize("transparent", [False, True])
def test_png_has_matplotlibs_pixels_metadata_and_resolution(tmp_path, transparent):
    """``save_figure`` encodes the PNG itself (RGB when no pixel is transparent, rows
    unfiltered, zlib level 3): the pixels, text chunks and resolution of matplotlib's own
    ``savefig``, in a file whose chunks' CRCs check."""
    import matplotlib as mpl

    def figure():
        with chart_style():
            fig, ax = plt.subplots(figsize=SLIDE_SIZES["4:3"], layout="constrained")
        ax.plot([0, 1, 2], [0, 1, 0.5], label="a line")
        ax.set_title("A title", loc="left")
        if transparent:
            fig.patch.set_alpha(0.0)
            ax.patch.set_alpha(0.3)
        return fig

    ours = save_figure(figure(), tmp_path / "ours", formats=["png"], provenance="p", dpi=80)[0]
    fig = figure()
    save_figure(fig, tmp_path / "layout", formats=["svg"], provenance="p", dpi=80)  # laid out
    fig.set_layout_engine("none")
    with chart_style(), mpl.rc_context({"savefig.bbox": "standard"}):  # as save_figure
        fig.savefig(tmp_path / "theirs.png", dpi=80, metadata={"Description": "p"})
    with Image.open(ours) as a, Image.open(tmp_path / "theirs.png") as b:
        assert a.mode == ("RGBA" if transparent else "RGB") and b.mode == "RGBA"
        assert np.array_equal(np.asarray(a.convert("RGBA")), np.asarray(b))
        assert a.info["Description"] == b.info["Description"] == "p"
        assert a.info["Software"] == b.info["Software"]
        assert a.info["Software"].startswith(f"Matplotlib version{mpl.__version__}")
        assert a.info["dpi"] == pytest.approx(b.info["dpi"])
    with Image.open(ours) as a:
        a.verify()  # every chunk's CRC-32, and the stream's end
    plt.close("all")


def test_png_text_beyond_latin1_is_kept_as_itxt(tmp_path):
    """A provenance line in any script (a study named in Greek, a school in Chinese) is
    stored as UTF-8 (``iTXt``) and read back as written; Latin-1 text stays ``tEXt``."""
    from toolkit.charts.style import _write_png

    rgba = np.full((3, 5, 4), 255, dtype=np.uint8)
    rgba[1, 2] = (10, 20, 30, 255)
    line = "μελέτη | école 学校 | seed 7"
    _write_png(tmp_path / "a.png", rgba, 100, {"Description": line, "Title": "café"})
    raw = (tmp_path / "a.png").read_bytes()
    assert b"iTXtDescription" in raw and b"tEXtTitle" in raw
    with Image.open(tmp_path / "a.png") as a:
        a.load()
        assert a.mode == "RGB" and a.info["Description"] == line and a.info["Title"] == "café"
        assert np.array_equal(np.asarray(a), rgba[..., :3])
        assert a.info["dpi"] == pytest.approx((100, 100), abs=0.01)
