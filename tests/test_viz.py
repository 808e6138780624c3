"""The interactive classroom view: its model, drawings, controls, page, and two real browsers.

The kernel-level tests render the page with ``solara.render`` (no browser) and work its
widgets. The browser tests serve the view on 127.0.0.1 twice, standalone (``python -m
toolkit.viz``) and inside a JupyterLab server (a notebook whose cell displays ``page``), open
both in Debian's headless Chromium through Playwright with every request outside this machine
refused, and work the controls as a user would. Both servers start together, so the two tests
share their start-up time. They are skipped only where no Chromium is installed; the standalone
one also where Solara's front-end packages are missing (./run.sh installs them with npm).
"""

import contextlib
import inspect
import json
import re
import threading
import time
from collections.abc import Iterator

import ipyvuetify as v
import ipywidgets
import numpy as np
import pytest
import solara
from matplotlib.colors import to_hex

import toolkit.viz.page as page_module
from toolkit.charts import DOMAIN_COLORS, REGIME_COLORS
from toolkit.model import PRESETS, ClassroomModel, ParameterError, blend
from toolkit.viz.assets import missing_assets, required_packages
from toolkit.viz.browser import (
    ViewDriver,
    block_outside_requests,
    find_chromium,
    launch_chromium,
    open_notebook,
    serve_jupyterlab,
    serve_view,
    solara_command,
    solara_env,
    wait_until_up,
)
from toolkit.viz.classroom import (
    OUTCOME_PANELS,
    ClassroomView,
    draw_classroom,
    draw_outcomes,
    stats_line,
    view_regime,
)
from toolkit.viz.page import (
    CONTROLS,
    PENDING_NOTE,
    STEP_SIZES,
    ClassroomApp,
    changed_controls,
    make_page,
    read_controls,
)

CONTROL = {c.name: c for c in CONTROLS}


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
    assert [c.name for c in CONTROLS] == [n for n in sig if n != "self"]
    for control in CONTROLS:
        default = sig[control.name].default
        assert control.parse(control.text(default)) == control.parse(default), control.name
        if control.kind == "number":  # the default sits inside the control's range
            assert control.low <= default <= control.high, control.name
    assert CONTROL["regime"].choices == tuple(PRESETS)


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


# --- reading the controls ---
def _texts(model: ClassroomView | None = None) -> dict[str, str]:
    model = model or ClassroomView(n_students=6)
    return {c.name: c.text(model.inputs[c.name]) for c in CONTROLS}


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("seed", "abc", "whole number of 0 or more, got 'abc'"),
        ("seed", "-3", "whole number of 0 or more, got -3"),
        ("seed", "1.5", "whole number"),
        ("seed", "", "whole number"),
        ("teacher_capacity", "abc", "number from 0.1 to 3, got 'abc'"),
        ("teacher_capacity", "", "number from 0.1 to 3, got ''"),
        ("teacher_capacity", "0,5", "write decimals with a point"),
        ("teacher_capacity", "9", "number from 0.1 to 3, got 9"),
        ("diagnostic_noise", "nan", "number from 0 to 2"),
        ("peer_learning", "inf", "number from 0 to 0.06"),
        ("self_regulation_mean", "-0.2", "number from 0.05 to 0.95, got -0.2"),
        ("blend_weight", "2", "number from 0 to 1, got 2"),
        ("blend_weight", "half", "number from 0 to 1, got 'half'"),
        ("n_students", "20.5", "whole number from 4 to 60, got '20.5'"),
        ("n_students", "200", "whole number from 4 to 60, got 200"),
        ("n_years", "0", "whole number from 1 to 4, got 0"),
        ("regime", "montessori", "expected one of standardized"),
        ("scaffolding", "0.2", "expected one of regime's own"),
    ],
)
def test_every_invalid_input_gets_a_message_naming_its_field(name, text, says):
    values, errors = read_controls(_texts() | {name: text})
    assert list(errors) == [name]
    assert errors[name].startswith(CONTROL[name].label + ": expected ")
    assert says in errors[name]
    assert set(values) == set(CONTROL) - {name}  # the other fields still read
    with pytest.raises(ParameterError, match=re.escape(says)):
        CONTROL[name].parse(text)


def test_valid_inputs_read_into_the_model_keywords():
    texts = _texts() | {"seed": " 7 ", "n_students": "12", "blend_weight": "0.25"}
    texts |= {"regime": "personal", "teacher_capacity": "1.5e0", "scaffolding": "0.3"}
    values, errors = read_controls(texts)
    assert errors == {}
    assert values["seed"] == 7 and values["n_students"] == 12 and values["blend_weight"] == 0.25
    assert values["teacher_capacity"] == 1.5 and values["scaffolding"] == "0.3"
    model = ClassroomView(**values)
    assert model.params.n_students == 12 and model.regime.scaffolding == 0.3
    assert [c.name for c in changed_controls(values, ClassroomView())] == [
        "regime",
        "blend_weight",
        "scaffolding",
        "teacher_capacity",
        "n_students",
        "seed",
    ]
    assert changed_controls(read_controls(_texts(model))[0], model) == []
    # a slider position snaps to its step and shows in the box
    assert CONTROL["peer_learning"].text(CONTROL["peer_learning"].snap(0.02163)) == "0.022"
    assert CONTROL["n_students"].text(CONTROL["n_students"].snap(20.6)) == "21"


def test_a_combination_the_model_refuses_is_reported_under_the_field_it_names(monkeypatch):
    texts = _texts()

    def refuse(inputs):
        raise ParameterError(message)

    monkeypatch.setattr(ClassroomView, "parameters_from", staticmethod(refuse))
    message = "parameters: 'diagnostic_noise' = 1.5 is out of range; expected a value in [0, 1]."
    assert read_controls(texts)[1] == {"diagnostic_noise": message}
    message = "parameters: these values do not go together."
    assert read_controls(texts)[1] == {"": message}


# --- the page, without a browser ---
def _walk(widget: ipywidgets.Widget) -> Iterator[ipywidgets.Widget]:
    yield widget
    for child in getattr(widget, "children", None) or []:
        if isinstance(child, ipywidgets.Widget):
            yield from _walk(child)


class Kernel:
    """The page rendered in this process: find its widgets, type, click."""

    def __init__(self, root: ipywidgets.Widget) -> None:
        self.root = root

    def all(self, cls: type = ipywidgets.Widget, **match: str) -> list:
        out = []
        for w in _walk(self.root):
            if isinstance(w, cls) and all(
                token in (getattr(w, k, None) or "").split() for k, token in match.items()
            ):
                out.append(w)
        return out

    def one(self, cls: type = ipywidgets.Widget, **match: str) -> ipywidgets.Widget:
        (found,) = self.all(cls, **match)
        return found

    def stats(self) -> str:
        return self.one(v.Html, class_="classroom-stats").children[0]

    def buttons(self, name: str) -> list[v.Btn]:
        return [b for b in self.all(v.Btn) if b.children == [name]]

    def button(self, name: str) -> v.Btn:
        (btn,) = self.buttons(name)
        return btn

    def step_size(self, size: str) -> None:
        """Choose the step size (a toggle: the browser sets its value, here we do)."""
        self.one(v.BtnToggle, class_="classroom-step-size").v_model = size

    def box(self, name: str) -> v.TextField:
        (control,) = self.all(class_=f"control-{name}")
        if isinstance(control, v.TextField):
            return control
        (box,) = [w for w in _walk(control) if isinstance(w, v.TextField)]
        return box

    def messages(self, name: str) -> list[str]:
        (control,) = self.all(class_=f"control-{name}")
        fields = [w for w in _walk(control) if isinstance(w, v.Select | v.TextField | v.Slider)]
        return [m for w in fields for m in (w.error_messages or []) + (w.messages or [])]

    def alerts(self, cls: str) -> list[str]:
        return [
            "".join(str(c) for c in a.children)
            for a in self.all(v.Alert)
            if cls in (a.class_ or "").split()
        ]


@contextlib.contextmanager
def rendered(model: ClassroomView) -> Iterator[Kernel]:
    box, rc = solara.render(ClassroomApp(model), handle_error=False)
    try:
        yield Kernel(box)
    finally:
        rc.close()


def test_page_has_its_controls_in_the_page_itself():
    """Item 1's cause: the controls lived in Solara's sidebar, which a notebook does not show.

    Rendered with no app layout around it (as a notebook output is), the page has Reset,
    Play, Step, the step size, a drop-down per choice, a slider and box per number, and the
    seed box; nothing goes to a sidebar, app bar or menu.
    """
    with rendered(ClassroomView(n_students=6, seed=1)) as page:
        for name in ("Reset", "Play", "Step", "day", "week", "month"):
            assert page.button(name).disabled in (False, None), name
        labels = {s.label for s in page.all(v.Select)}
        assert {"Regime", "Blend with", "Scaffolding (share of teacher time)"} <= labels
        numbers = [c for c in CONTROLS if c.kind == "number"]
        assert len(page.all(v.Slider)) == len(numbers) == 7
        defaults = ClassroomView(n_students=6, seed=1).inputs
        for control in numbers:  # each slider's value is shown in the box beside it
            assert page.box(control.name).v_model == control.text(defaults[control.name])
        assert page.box("seed").v_model == "1"
        assert page.box("teacher_capacity").v_model == "0.5"  # values are shown, not only dragged
        assert not page.all(v.AppBar) and not page.all(v.NavigationDrawer)
        assert not page.all(v.Menu)


def test_notebook_display_shows_the_page_as_a_plain_widget():
    """``page`` last in a cell (or ``display(page)``) shows a widget with the controls.

    It is rendered without Solara's Jupyter wrapper, whose app bar does not mount in
    JupyterLab and which would load a check from solara.dev.
    """
    from IPython.core.formatters import DisplayFormatter

    page = make_page(ClassroomView(n_students=6, seed=2))
    data, _ = DisplayFormatter().format(page)
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"]
    widget = page.widget()
    try:
        kernel = Kernel(widget)
        assert kernel.stats().startswith("standardized | day 0 of 180")
        assert kernel.button("Reset") and kernel.button("Play")
        iframes = [w for w in kernel.all(v.Html) if w.tag == "iframe"]
        assert not iframes and not kernel.all(v.AppBar)
        kernel.button("Step").click()
        assert "| day 5 of 180" in kernel.stats()  # a week, the default step
    finally:
        widget.close()


def test_invalid_input_keeps_the_page_and_the_class():
    """Item 2: seed ``abc`` then Reset used to replace the page with a traceback."""
    m = ClassroomView(n_students=6, seed=1)
    with rendered(m) as page:
        page.button("Step").click()
        before = page.stats()
        for name, text in [("seed", "abc"), ("teacher_capacity", "abc"), ("blend_weight", "2")]:
            page.box(name).v_model = text
            (message,) = page.messages(name)
            assert message.startswith(CONTROL[name].label + ": expected"), message
            page.button("Reset").click()
            (notice,) = page.alerts("classroom-notice")
            assert notice.startswith(f"Not reset: fix {CONTROL[name].label} first"), notice
            assert page.stats() == before  # the running class is kept, and still steps
            page.box(name).v_model = CONTROL[name].text(m.inputs[name])
            assert page.messages(name) == []
        page.button("Step").click()
        assert "| day 10 of 180" in page.stats()
        page.box("seed").v_model = "9"
        page.button("Reset").click()
        assert page.alerts("classroom-notice") == []
        assert page.stats() == stats_line(ClassroomView(n_students=6, seed=9))


def test_a_failing_step_is_reported_and_the_page_stays(monkeypatch):
    m = ClassroomView(n_students=6, seed=1)
    with rendered(m) as page:
        before = page.stats()

        def broken():
            raise FloatingPointError("overflow in the learning rule")

        monkeypatch.setattr(m, "step", broken)
        page.button("Step").click()
        (notice,) = page.alerts("classroom-notice")
        assert notice == "The class stopped on day 0: overflow in the learning rule"
        assert page.stats() == before and page.button("Reset")


def test_changed_settings_are_marked_until_reset_applies_them():
    """Item 3: a new regime did nothing until Reset, and nothing said so."""
    with rendered(ClassroomView(n_students=6, seed=1)) as page:
        page.one(v.Select, class_="control-regime").v_model = "personal"
        page.box("n_students").v_model = "8"
        assert page.messages("regime") == [PENDING_NOTE]
        assert page.messages("n_students") == [PENDING_NOTE]
        (pending,) = page.alerts("classroom-pending")
        assert pending == "Not applied yet: Regime, Students. Reset starts a class with them."
        assert page.stats().startswith("standardized | day 0")
        page.button("Reset").click()
        assert page.stats() == stats_line(ClassroomView("personal", n_students=8, seed=1))
        assert page.alerts("classroom-pending") == [] and page.messages("regime") == []


def _wait(condition, timeout: float = 60.0) -> None:
    """Wait until ``condition()`` holds (Play runs in a thread of its own)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        threading.Event().wait(0.02)


def test_step_sizes_and_play_pause(monkeypatch):
    """Item 3: Step and Play go by a day, a week or a month; Play is labelled and pauses."""
    # four school years and a slower Play, so that Play cannot reach the end of the last year
    # before Pause is pressed, however fast the machine (CI failed with one year at 0.05 s)
    monkeypatch.setattr(page_module, "PLAY_PAUSE", 0.2)
    m = ClassroomView(n_students=6, seed=1, n_years=4)

    def elapsed() -> int:
        return m.year * m.params.n_days + m.day

    with rendered(m) as page:
        for size, day in [("day", 1), ("week", 6), ("month", 26)]:
            page.step_size(size)
            page.button("Step").click()
            assert f"| day {day} of 180" in page.stats(), size
        page.button("Play").click()
        # Play's thread redraws the page while it steps: read the widgets once it has settled
        _wait(lambda: page.buttons("Pause") and page.buttons("Step"))
        assert page.button("Step").disabled
        _wait(lambda: elapsed() >= 66)  # two more months
        page.button("Pause").click()
        day = elapsed()  # Pause returns after a step in progress, so the class stays here
        _wait(lambda: page.buttons("Play"))  # the label follows once Play's last redraw is done
        assert page.button("Play").disabled in (False, None)
        assert m.running and (day - 26) % STEP_SIZES["month"] == 0
        threading.Event().wait(0.5)
        assert elapsed() == day  # paused: the class does not move on


def test_play_waits_for_the_page_to_draw_each_step(monkeypatch):
    """Play must not run ahead of the display: with no pause between steps, it used to step
    the whole school year inside the click's redraw (the page showed no Pause to press)."""
    monkeypatch.setattr(page_module, "PLAY_PAUSE", 0.0)
    m = ClassroomView(n_students=6, seed=1)
    drawn_days = []
    with rendered(m) as page:
        page.step_size("month")
        page.button("Play").click()
        assert page.buttons("Pause") and m.running  # the click returned while Play runs
        while page.buttons("Pause"):
            drawn_days.append(int(page.stats().split("| day ")[1].split(" ")[0]))
            threading.Event().wait(0.01)
        _wait(lambda: "| day 180 of 180" in page.stats())
    # each month was on the page before the next was taken (not only the last)
    assert len(set(drawn_days)) >= 3, drawn_days


def test_play_stops_at_the_end_of_the_last_year():
    m = ClassroomView(n_students=4, seed=1)
    for _ in range(m.params.n_days - 10):
        m.step()
    with rendered(m) as page:
        page.step_size("month")
        page.button("Play").click()
        _wait(lambda: "| day 180 of 180" in page.stats() and page.buttons("Play"))
        assert not m.running
        (finished,) = page.alerts("classroom-finished")
        assert "finished its 1 school year(s)" in finished
        assert page.button("Play").disabled and page.button("Step").disabled


def test_solara_assets_are_the_ones_its_page_loads():
    specs = required_packages()
    assert any(s.startswith("requirejs@") for s in specs)
    assert any("solara-vuetify" in s for s in specs)
    assert all("@" in s.lstrip("@") for s in specs)


def test_the_standalone_server_makes_no_calls_home(monkeypatch):
    """``python -m toolkit.viz``: production mode (no solara.dev check), no telemetry."""
    import toolkit.viz.__main__ as launcher

    monkeypatch.setenv("PYTEST_CURRENT_TEST", "x")
    calls = []
    monkeypatch.setattr(launcher.subprocess, "call", lambda cmd, env: calls.append((cmd, env)))
    launcher.main(["--port", "9999", "--no-open"])
    ((cmd, env),) = calls
    assert cmd == solara_command(port=9999)
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1" and "--production" in cmd
    assert "--no-open" in cmd
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    assert "PYTEST_CURRENT_TEST" not in env  # so Solara behaves as for a user
    assert env == solara_env()


# --- the browser tests ---
@pytest.fixture(scope="module")
def chromium():
    path = find_chromium()
    if path is None:
        pytest.skip(
            "Chromium is not installed (Debian: apt-get install chromium); .ci/run installs it"
        )
    return path


NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "view",
            "metadata": {},
            "outputs": [],
            "source": ["from toolkit.viz.app import page\n", "page"],
        }
    ],
    "metadata": {
        "kernelspec": {
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
            "name": "python3",
        }
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}


@pytest.fixture(scope="module")
def servers(chromium, tmp_path_factory):
    """Start the standalone view and JupyterLab together; yield their URLs (not yet waited for)."""
    tmp = tmp_path_factory.mktemp("view")
    root = tmp / "lab"
    root.mkdir()
    (root / "view.ipynb").write_text(json.dumps(NOTEBOOK), encoding="utf-8")
    missing = missing_assets()  # the standalone page needs them; JupyterLab has its own
    with contextlib.ExitStack() as stack:
        lab_url = stack.enter_context(
            serve_jupyterlab(root, log=tmp / "jupyterlab.log", wait=False)
        )
        view_url = None
        if not missing:
            view_url = stack.enter_context(serve_view(log=tmp / "solara.log", wait=False))
        yield {"view": view_url, "lab": lab_url, "missing": missing}


@contextlib.contextmanager
def offline_page(pw, chromium) -> Iterator[tuple]:
    """A Chromium page that cannot reach beyond this machine; yields it, refused URLs, errors."""
    browser = launch_chromium(pw, chromium)
    try:
        context = browser.new_context(viewport={"width": 1600, "height": 1000})
        refused = block_outside_requests(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on(
            "console",
            lambda m: errors.append(m.text) if m.type == "error" and "Vuetify" in m.text else None,
        )
        yield page, refused, errors
    finally:
        browser.close()


@pytest.mark.browser
@pytest.mark.slow
def test_view_in_a_real_browser(servers, chromium, tmp_path):
    from playwright.sync_api import sync_playwright

    if servers["missing"]:
        pytest.skip(
            f"Solara's front-end packages {servers['missing']} are not installed; ./run.sh fetches "
            "them from the npm registry at install time when npm is present (.ci/run installs npm)"
        )
    wait_until_up(servers["view"])
    with sync_playwright() as pw, offline_page(pw, chromium) as (page, refused, errors):
        page.goto(servers["view"])
        view = ViewDriver(page)
        first = view.wait_loaded()
        assert first.startswith("standardized | day 0 of 180, year 1")
        charts0 = view.image_digest(".classroom-outcomes")
        class0 = view.image_digest(".classroom-network")

        # Step (by a week, the default) advances the model and redraws both charts
        std5 = view.step()
        assert "| day 5 of 180" in std5
        assert view.image_digest(".classroom-outcomes") != charts0
        assert view.image_digest(".classroom-network") != class0

        # a new regime is marked as not applied yet, and reaches the model on Reset
        view.select("Regime", "personal")
        assert view.wait_message("regime", "Not applied") == PENDING_NOTE
        pending = page.locator(".classroom-pending")
        assert "Not applied yet: Regime." in pending.inner_text()
        assert view.stats() == std5
        personal0 = view.reset()
        assert personal0.startswith("personal | day 0 of")
        view.wait_no_message("regime")
        pending.wait_for(state="detached")
        assert "learner_goal_control 1" in page.get_by_text("Regime axes:").inner_text()
        assert personal0.split("| mean")[1] == first.split("| mean")[1]  # same students
        personal5 = view.step()
        engagement = [float(s.split("engagement ")[1].split(" ")[0]) for s in (std5, personal5)]
        assert engagement[1] > engagement[0]  # autonomy raises engagement

        # slider values are shown: the box beside each slider, and it follows the slider
        assert view.box("teacher_capacity").input_value() == "0.5"
        view.control("teacher_capacity").get_by_role("slider").press("ArrowRight")
        view.wait_message("teacher_capacity", "Not applied yet")
        assert view.wait_box("teacher_capacity", "0.55") == "0.55"

        # invalid input: a message under the field, Reset refused, the page and class kept
        for name, text, says in [
            ("seed", "abc", "Seed: expected a whole number of 0 or more, got 'abc'."),
            ("n_students", "2.5", "Students: expected a whole number from 4 to 60, got '2.5'."),
            ("blend_weight", "-1", "Blend weight (0 = first regime only): expected a number"),
        ]:
            view.fill(name, text)
            assert says in view.wait_message(name, "expected")
            assert "Not reset: fix " in view.reset(refused=True)
            notice = page.locator(".classroom-notice").filter(has_text=CONTROL[name].label)
            notice.wait_for()  # names every field that is not valid
            assert view.stats() == personal5
        assert "Traceback" not in page.locator("body").inner_text()
        view.fill("n_students", "21")
        view.fill("blend_weight", "0")

        # the seed is an input: a new seed gives a new class
        view.fill("seed", "7")
        view.fill("n_years", "4")  # so that Play cannot finish before Pause on a fast machine
        seven = view.reset()
        assert seven.startswith("personal | day 0 of")
        assert seven.split("| mean")[1] != first.split("| mean")[1]

        # Play goes by the chosen step (a month) until Pause
        view.set_step_size("month")
        view.button("Play").click()
        view.wait_day(40)
        view.button("Pause").click()
        view.button("Play").wait_for()
        view.wait_charts()
        year = int(view.state().split(", year ")[1].split(" ")[0])
        elapsed = (year - 1) * 180 + view.day()
        assert elapsed % STEP_SIZES["month"] == 0 and elapsed >= 40
        assert view.button("Play").is_enabled()  # paused within the run, not at its end
        page.screenshot(path=str(tmp_path / "view.png"))
        assert not errors, errors
    assert refused == [], f"the page requested resources outside this machine: {refused}"


@pytest.mark.browser
@pytest.mark.slow
def test_view_in_jupyterlab(servers, chromium, tmp_path):
    """Item 1: in JupyterLab, ``page`` showed the charts but no controls at all."""
    from playwright.sync_api import sync_playwright

    wait_until_up(servers["lab"], timeout=120)
    with sync_playwright() as pw, offline_page(pw, chromium) as (page, refused, errors):
        open_notebook(page, servers["lab"], "view.ipynb")
        view = ViewDriver(page, timeout=60_000)
        first = view.wait_loaded(timeout=120_000)
        assert first.startswith("standardized | day 0 of 180, year 1")
        output = page.locator(".jp-OutputArea-output")
        for name in ("Reset", "Play", "Step"):
            assert output.get_by_role("button", name=name, exact=True).is_visible(), name
        assert output.get_by_role("slider").count() == 7
        assert view.box("teacher_capacity").input_value() == "0.5"
        charts0 = view.image_digest(".classroom-outcomes")

        view.select("Regime", "personal")
        assert view.wait_message("regime", "Not applied") == PENDING_NOTE
        assert view.reset().startswith("personal | day 0 of 180")
        assert "| day 5 of 180" in view.step()  # by a week, the default
        assert view.image_digest(".classroom-outcomes") != charts0

        view.fill("seed", "abc")
        assert "Seed: expected a whole number" in view.wait_message("seed", "expected")
        assert "Not reset" in view.reset(refused=True)
        assert "| day 5 of 180" in view.stats()
        page.screenshot(path=str(tmp_path / "jupyterlab.png"))
        assert not errors, errors
    assert refused == [], f"the notebook requested resources outside this machine: {refused}"
