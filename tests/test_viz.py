"""The interactive classroom view: its model wrapper, drawings, page, and a real browser.

The browser test starts the view with ``solara run`` on 127.0.0.1 (a free port), opens it in
Debian's headless Chromium through Playwright, changes the regime, steps the model and checks
that the stats line and both charts change. It is skipped only where no Chromium is installed.
"""

import inspect
import time

import numpy as np
import pytest
import solara
from matplotlib.colors import to_hex

from toolkit.charts import DOMAIN_COLORS, REGIME_COLORS
from toolkit.model import PRESETS, ClassroomModel, blend
from toolkit.viz.assets import missing_assets, required_packages
from toolkit.viz.browser import ViewDriver, find_chromium, launch_chromium, serve_view
from toolkit.viz.classroom import (
    MODEL_PARAMS,
    OUTCOME_PANELS,
    ClassroomView,
    draw_classroom,
    draw_outcomes,
    make_page,
    stats_line,
    view_regime,
)


# --- the model behind the view ---
def test_view_regime_presets_blends_and_scaffolding():
    assert view_regime("individualized") == PRESETS["individualized"]
    mixed = view_regime("personalized", "personal", 0.25)
    assert mixed == blend(PRESETS["personalized"], PRESETS["personal"], 0.25)
    assert view_regime("personal", scaffolding="0.3").scaffolding == 0.3
    assert view_regime("personal").scaffolding == PRESETS["personal"].scaffolding
    with pytest.raises(ValueError, match="unknown regime"):
        view_regime("montessori")


def test_view_model_matches_the_model_with_the_same_inputs():
    view = ClassroomView(regime="personal", teacher_capacity=1.0, n_students=10, seed="11")
    ref = ClassroomModel(
        "personal", {"teacher_capacity": 1.0, "n_students": 10, "peer_ties": 4}, rng=11
    )
    for _ in range(5):
        view.step()
        ref.step()
    np.testing.assert_array_equal(view.core_skills(), ref.core_skills())
    df = view.series()
    assert list(df["t"]) == list(range(6))
    assert {"mean_core_skill", "sd_core_skill", "mean_skill", "profile_distance"} <= set(df)
    assert df["sd_core_skill"].iloc[-1] == pytest.approx(view.core_skills().std())
    assert view.color == REGIME_COLORS["personal"]
    assert ClassroomView("standardized", "personal", 0.75).color == REGIME_COLORS["personal"]
    with pytest.raises(ValueError, match="seed"):
        ClassroomView(seed="forty-two")


def test_controls_match_the_model_signature_and_defaults():
    sig = inspect.signature(ClassroomView.__init__).parameters
    assert set(MODEL_PARAMS) == set(sig) - {"self"}
    for name, control in MODEL_PARAMS.items():
        value = control["value"] if isinstance(control, dict) else control.value
        default = sig[name].default
        assert str(value) == str(default), name
    assert MODEL_PARAMS["regime"]["values"] == list(PRESETS)


# --- drawings ---
def test_draw_classroom_shows_every_student_and_peer_tie():
    m = ClassroomView(regime="individualized", n_students=12, seed=3)
    for _ in range(4):
        m.step()
    ax = draw_classroom(m)
    (students,) = [c for c in ax.collections if c.get_gid() == "students"]
    (links,) = [c for c in ax.collections if c.get_gid() == "peer_links"]
    assert len(students.get_offsets()) == 12
    assert len(links.get_segments()) == m.network.number_of_edges() == 12 * 4
    domains = m.params.domains
    expected = [DOMAIN_COLORS[domains[s.focus_domain]] for s in m.ordered_students]
    assert [to_hex(c).upper() for c in students.get_facecolors()] == expected
    # marker area grows with core skill
    sizes = students.get_sizes()
    core = m.core_skills()
    assert sizes[np.argmax(core)] == sizes.max() and sizes[np.argmin(core)] == sizes.min()
    # three ability groups, each around its own table
    assert {t.get_text() for t in ax.texts} == {"G1", "G2", "G3"}
    ax = draw_classroom(m, color_by="engagement")
    (students,) = [c for c in ax.collections if c.get_gid() == "students"]
    np.testing.assert_allclose(students.get_array(), [s.engagement for s in m.ordered_students])


def test_draw_outcomes_plots_the_collected_series():
    m = ClassroomView(regime="personal", n_students=8, seed=5)
    for _ in range(3):
        m.step()
    axes = draw_outcomes(m)
    df = m.series()
    for ax, (_, lines) in zip(axes, OUTCOME_PANELS, strict=True):
        drawn = {ln.get_gid(): ln for ln in ax.lines}
        assert set(drawn) == {column for column, _, _ in lines}
        for column, line in drawn.items():
            np.testing.assert_allclose(line.get_ydata(), df[column])
            assert to_hex(line.get_color()).upper() == REGIME_COLORS["personal"]


def test_page_steps_and_resets_without_a_browser():
    """Drive the page's widgets in the kernel: Step, a new regime and seed, Reset."""
    import ipyvuetify as v

    m = ClassroomView(n_students=6, seed=1)

    @solara.component
    def App():  # noqa: N802
        with solara.AppLayout():  # hosts SolaraViz's sidebar (the controls)
            make_page(m)

    _, rc = solara.render(App(), handle_error=False)
    try:
        stats = lambda: rc.find(v.Html, class_="classroom-stats").widget.children[0]  # noqa: E731
        assert stats().startswith("standardized | day 0 of 180, year 1")
        # the controls start from the model's own inputs
        assert rc.find(v.TextField, label="Seed").widget.v_model == "1"
        rc.find(v.Btn, children=["Step"]).widget.click()
        assert stats() == stats_line(m) and "| day 1 of 180" in stats()
        rc.find(v.Select, label="Regime").widget.v_model = "personal"
        seed = rc.find(v.TextField, label="Seed").widget
        seed.v_model = "9"
        seed.fire_event("keyup.enter", None)  # the seed box takes its value on Enter or blur
        rc.find(v.Btn, children=["Reset"]).widget.click()
        fresh = ClassroomView("personal", n_students=6, seed=9)
        assert stats() == stats_line(fresh)
    finally:
        rc.close()


def test_solara_assets_are_the_ones_its_page_loads():
    specs = required_packages()
    assert any(s.startswith("requirejs@") for s in specs)
    assert any("solara-vuetify" in s for s in specs)
    assert all("@" in s.lstrip("@") for s in specs)


# --- the browser test ---
@pytest.fixture(scope="module")
def chromium():
    path = find_chromium()
    if path is None:
        pytest.skip(
            "Chromium is not installed (Debian: apt-get install chromium); .ci/run installs it"
        )
    missing = missing_assets()
    if missing:
        pytest.skip(
            f"Solara's front-end packages {missing} are not installed; ./run.sh fetches them from "
            "the npm registry at install time when npm is present (.ci/run installs npm)"
        )
    return path


@pytest.mark.browser
@pytest.mark.slow
def test_view_in_a_real_browser(chromium, tmp_path):
    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    with serve_view(log=tmp_path / "solara.log") as url, sync_playwright() as pw:
        browser = launch_chromium(pw, chromium)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)
            view = ViewDriver(page)
            first = view.wait_loaded()
            assert first.startswith("standardized | day 0 of 180, year 1")
            charts0 = view.image_digest(".classroom-outcomes")
            class0 = view.image_digest(".classroom-network")

            # stepping advances the model and redraws both charts
            std3 = view.step(3)
            assert "| day 3 of 180" in std3
            charts3, class3 = (
                view.image_digest(".classroom-outcomes"),
                view.image_digest(".classroom-network"),
            )
            assert charts3 != charts0 and class3 != class0

            # a new regime reaches the model after Reset, and its charts differ
            view.select("Regime", "personal")
            view.reset()
            personal0 = view.wait_stats("personal | day 0 of", start=True)
            assert "learner_goal_control 1" in page.get_by_text("Regime axes:").inner_text()
            assert personal0.split("| mean")[1] == first.split("| mean")[1]  # same students
            personal3 = view.step(3)
            engagement = [float(s.split("engagement ")[1].split(" ")[0]) for s in (std3, personal3)]
            assert engagement[1] > engagement[0]  # autonomy raises engagement
            assert view.image_digest(".classroom-outcomes") not in (charts0, charts3)
            assert view.image_digest(".classroom-network") != class3

            # the seed is an input: a new seed gives a new class
            seed_box = page.get_by_label("Seed")
            seed_box.fill("7")
            seed_box.press("Enter")
            view.reset()
            seven = view.wait_stats("personal | day 0 of", start=True)
            assert seven.split("| mean")[1] != first.split("| mean")[1]
            page.screenshot(path=str(tmp_path / "view.png"))
            assert not errors, errors
        finally:
            browser.close()
    assert time.monotonic() - started < 120
