"""The interactive classroom view: one class, day by day, in JupyterLab or in a browser.

Choose a regime (a preset, or a blend of two presets), the main parameters and the seed; Reset
starts a class with them; Step and Play go through the school year by a day, a week or a month,
and the class and its live outcome and diversity charts follow.

In JupyterLab, put ``page`` last in a cell::

    from toolkit.viz.app import page
    page

Standalone, in a browser (served on this machine only; the page loads nothing from the
internet)::

    ./run.sh python -m toolkit.viz

Why the page lays out its own controls
--------------------------------------
The view was Mesa's ``SolaraViz`` page, which puts its controls (Step, Play, Reset and the
model's inputs) in Solara's sidebar, and its title in the app bar. Displayed in a notebook,
Solara wraps an element in an embedded app layout that moves the sidebar into a menu on a
Vuetify app bar; with Vuetify 3 (ipyvuetify 3) an app bar cannot mount outside a Vuetify
application layout (the browser console says "[Vuetify] Could not find injected layout"), so in
JupyterLab the page showed its charts and no controls at all. That wrapper also loads Solara's
one-time check from solara.dev in the browser and sends Solara's usage telemetry. So this page
puts its controls beside the charts, in the page itself (nothing goes to a sidebar or app bar),
and :class:`ClassroomPage` displays it in Jupyter as a plain widget, without the wrapper.

The controls also check what is typed: every field is read as it changes (:func:`read_controls`)
and a value that is not valid gets a message under its field, while the page and the running
class stay as they were. Settings apply when Reset starts a new class (a regime cannot change in
the middle of a school year); until then the page lists the settings not applied yet, under each
changed field and beside Reset.
"""

from __future__ import annotations

import base64
import io
import logging
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from matplotlib.figure import Figure

from toolkit._optional import require
from toolkit.charts.style import SLIDE_SIZES, chart_style
from toolkit.model import PRESETS, ParameterError, Parameters, Regime
from toolkit.viz.classroom import (
    OUTCOME_PANELS,
    OUTCOME_SIZE,
    SCAFFOLDING_CHOICES,
    ClassroomView,
    draw_classroom,
    draw_outcomes,
    parse_seed,
    stats_line,
    view_regime,
)

solara = require("solara", "The interactive classroom view")

__all__ = [
    "CONTROLS",
    "PENDING_NOTE",
    "STEP_SIZES",
    "ClassroomApp",
    "ClassroomPage",
    "ClassroomPanel",
    "Control",
    "OutcomePanel",
    "StatsPanel",
    "changed_controls",
    "make_page",
    "read_controls",
]

_log = logging.getLogger(__name__)
_DEFAULTS = Parameters()

#: What Step and Play advance by, in school days (a school year has ``n_days`` = 180).
STEP_SIZES = {"day": 1, "week": 5, "month": 20}

#: The message under a field whose value differs from the running class's.
PENDING_NOTE = "Not applied yet: Reset starts a class with it."

#: Seconds Play waits between two advances, once the page has drawn the last one, so that a
#: Pause click and the browser get through.
PLAY_PAUSE = 0.05

#: Longest wait, in seconds, of Play for the page to draw a step before it takes the next.
FRAME_TIMEOUT = 10.0


def _num(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class Control:
    """One input of the view: a drop-down, a number (slider and box), or the seed box.

    Parameters
    ----------
    name : str
        The keyword of :class:`~toolkit.viz.classroom.ClassroomView` it sets.
    label : str
        Shown with the field, and at the start of its error messages.
    choices : tuple of str
        A drop-down's options (empty for numbers and the seed).
    low, high, step : float, optional
        A number's range (inclusive) and slider step; ``None`` for the seed and drop-downs.
    integer : bool
        Whole numbers only.
    """

    name: str
    label: str
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    step: float | None = None
    integer: bool = False

    @property
    def kind(self) -> str:
        """``"choice"``, ``"number"`` or ``"seed"``."""
        if self.choices:
            return "choice"
        return "seed" if self.low is None else "number"

    def parse(self, raw: Any) -> Any:
        """Return the value that ``raw`` (a field's text, or a value) stands for.

        Parameters
        ----------
        raw : str or number

        Returns
        -------
        str, int or float
            A choice, a seed (int) or a number (int if :attr:`integer`).

        Raises
        ------
        ParameterError
            ``"<label>: expected ..., got ..."`` for anything else: text that is not a
            number, a number out of range or not whole, a choice not offered.

        Examples
        --------
        >>> CONTROLS[4].parse(" 1.5 ")
        1.5
        >>> CONTROLS[4].parse("abc")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        toolkit.model.params.ParameterError: Teacher capacity: expected a number from 0.1 to 3, ...
        """
        if self.kind == "choice":
            if raw not in self.choices:
                raise ParameterError(
                    f"{self.label}: expected one of {', '.join(self.choices)}, got {raw!r}."
                )
            return raw
        if self.kind == "seed":
            try:
                return parse_seed(raw)
            except ParameterError as exc:
                raise ParameterError(f"{self.label}: {str(exc).split(': ', 1)[1]}") from None
        assert self.low is not None and self.high is not None
        what = "a whole number" if self.integer else "a number"
        expected = f"{self.label}: expected {what} from {_num(self.low)} to {_num(self.high)}"
        text = str(raw).strip()
        try:
            value = float(text)
        except ValueError:
            hint = " (write decimals with a point)" if "," in text else ""
            raise ParameterError(f"{expected}, got {raw!r}{hint}.") from None
        if isinstance(raw, bool) or not math.isfinite(value):
            raise ParameterError(f"{expected}, got {raw!r}.")
        if self.integer and not value.is_integer():
            raise ParameterError(f"{expected}, got {raw!r}.")
        if not self.low <= value <= self.high:
            raise ParameterError(f"{expected}, got {_num(value)}.")
        return int(value) if self.integer else value

    def text(self, value: Any) -> str:
        """Return the field's text for ``value`` (numbers in their shortest exact form)."""
        if self.kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
            return str(int(value)) if self.integer else str(float(value))
        return str(value)

    def snap(self, value: float) -> int | float:
        """Round a slider position to the slider's step (its number of decimals)."""
        if self.integer:
            return round(float(value))
        decimals = max(0, -int(Decimal(str(self.step)).as_tuple().exponent))
        return round(float(value), decimals)


#: The view's inputs, in the order shown; their names are the keywords of ClassroomView.
CONTROLS: tuple[Control, ...] = (
    Control("regime", "Regime", choices=tuple(PRESETS)),
    Control("blend_with", "Blend with", choices=tuple(PRESETS)),
    Control("blend_weight", "Blend weight (0 = first regime only)", low=0.0, high=1.0, step=0.05),
    Control("scaffolding", "Scaffolding (share of teacher time)", choices=SCAFFOLDING_CHOICES),
    Control("teacher_capacity", "Teacher capacity", low=0.1, high=3.0, step=0.05),
    Control("diagnostic_noise", "Diagnostic noise (SD)", low=0.0, high=2.0, step=0.05),
    Control("peer_learning", "Peer learning", low=0.0, high=0.06, step=0.001),
    Control("self_regulation_mean", "Starting self-regulation", low=0.05, high=0.95, step=0.05),
    Control("n_students", "Students", low=4, high=60, step=1, integer=True),
    Control("n_years", "School years", low=1, high=4, step=1, integer=True),
    Control("seed", "Seed"),
)


def read_controls(raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Read the fields' contents into ClassroomView's keyword arguments, and what is wrong.

    Each field is parsed on its own (:meth:`Control.parse`); if all are valid, the regime and
    the model's parameters they make are built as the model would build them, so that a
    combination the model refuses is reported too, under the field it names.

    Parameters
    ----------
    raw : mapping
        Field name to its text (or value), for every name in :data:`CONTROLS`.

    Returns
    -------
    values : dict
        The valid fields' values (pass all of them to ``ClassroomView(**values)`` when there
        are no errors).
    errors : dict
        Field name to its message; the key ``""`` holds a message that names no field.

    Examples
    --------
    >>> raw = {c.name: c.text(v) for c, v in zip(CONTROLS, ClassroomView().inputs.values())}
    >>> read_controls(raw | {"seed": "abc"})[1]
    {'seed': "Seed: expected a whole number of 0 or more, got 'abc'."}
    """
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for control in CONTROLS:
        try:
            values[control.name] = control.parse(raw[control.name])
        except ParameterError as exc:
            errors[control.name] = str(exc)
    if errors:
        return values, errors
    try:
        view_regime(
            values["regime"], values["blend_with"], values["blend_weight"], values["scaffolding"]
        )
        ClassroomView.parameters_from(values)
    except ParameterError as exc:
        message = str(exc)
        names = [c.name for c in CONTROLS if f"'{c.name}'" in message]
        errors[names[0] if names else ""] = message
    return values, errors


def changed_controls(values: Mapping[str, Any], model: ClassroomView) -> list[Control]:
    """Return the controls whose valid value differs from the one ``model`` was built with."""
    out = []
    for control in CONTROLS:
        if control.name not in values:
            continue
        try:
            running = control.parse(model.inputs[control.name])
        except ParameterError:
            running = model.inputs[control.name]
        if values[control.name] != running:
            out.append(control)
    return out


# -- the charts ------------------------------------------------------------------------------
def _png(draw: Callable[[Figure], None], size: tuple[float, float], *, tight: bool) -> bytes:
    """Draw on a new figure outside pyplot (nothing accumulates) and return it as PNG.

    No constrained layout: it takes half the drawing time, and a live view redraws at every
    step. ``tight`` crops to what was drawn instead (the class chart, whose legend sits
    beside an equal-aspect plot); the outcome charts set their margins themselves.
    """
    with chart_style():
        fig = Figure(figsize=size)
        draw(fig)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=100, **({"bbox_inches": "tight"} if tight else {}))
    return out.getvalue()


def _outcome_axes(fig: Figure) -> list:
    """Return the outcome figure's three panels, stacked, with margins for titles and ticks."""
    fig.subplots_adjust(left=0.11, right=0.97, top=0.96, bottom=0.07, hspace=0.28)
    return list(fig.subplots(len(OUTCOME_PANELS), sharex=True))


def _state(model: ClassroomView) -> str:
    """Where the class is: ``regime | day d of N, year y`` (the start of the stats line)."""
    return stats_line(model).split(" | mean")[0]


def _chart(png: bytes, alt: str, tick: int) -> None:
    """Show a PNG as an ``<img>`` whose ``alt`` says what and when, and ``data-tick`` which draw.

    Source, description and tick change in one update, so a test (or a screen reader) can tell
    which day an image shows (:meth:`toolkit.viz.browser.ViewDriver.wait_charts`).
    """
    src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    solara.v.Html(
        tag="img",
        attributes={"src": src, "alt": alt, "data-tick": str(tick)},
        style_="max-width: 100%; height: auto",
    )


@solara.component
def ClassroomPanel(model: ClassroomView, tick: int = 0) -> None:  # noqa: N802
    """Show the class (redrawn when ``tick`` changes); a toggle switches the colouring."""
    color_by, set_color_by = solara.use_state("domain")

    def draw() -> bytes:
        return _png(
            lambda fig: draw_classroom(model, ax=fig.add_subplot(), color_by=color_by),
            SLIDE_SIZES["half"],
            tight=True,
        )

    png = solara.use_memo(draw, [model, tick, color_by])
    with solara.Column(classes=["classroom-network"]):
        solara.ToggleButtonsSingle(
            value=color_by, values=["domain", "engagement"], on_value=set_color_by
        )
        _chart(png, f"The class, coloured by {color_by}: {_state(model)}", tick)


@solara.component
def OutcomePanel(model: ClassroomView, tick: int = 0) -> None:  # noqa: N802
    """Show the live outcome and diversity charts (redrawn when ``tick`` changes)."""

    def draw() -> bytes:
        return _png(
            lambda fig: draw_outcomes(model, axes=_outcome_axes(fig)),
            OUTCOME_SIZE,
            tight=False,
        )

    png = solara.use_memo(draw, [model, tick])
    with solara.Column(classes=["classroom-outcomes"]):
        _chart(png, f"Outcome and diversity charts: {_state(model)}", tick)


@solara.component
def StatsPanel(model: ClassroomView, tick: int = 0) -> None:  # noqa: N802
    """Show today's numbers and the regime's position on its axes."""
    axes = ", ".join(
        f"{a} {v:g}" if isinstance(v, float) else f"{a} {v}"
        for a, v in ((a, getattr(model.regime, a)) for a in Regime.axes())
    )
    with solara.Column(gap="4px"):
        solara.v.Html(
            tag="div",
            children=[stats_line(model)],
            attributes={"data-tick": str(tick)},
            class_="classroom-stats",
        )
        solara.Text(f"Regime axes: {axes}", style={"font-size": "0.85em", "color": "#555"})


# -- the controls ----------------------------------------------------------------------------
def _field(
    control: Control,
    text: str,
    error: str | None,
    pending: bool,
    set_text: Callable[[str], None],
    slider_value: float,
) -> None:
    """Emit one control: a drop-down, a slider with its number box, or the seed box."""
    errors = [error] if error else []
    notes = [PENDING_NOTE] if pending and not error else []
    classes = f"classroom-control control-{control.name}"
    if control.kind == "choice":
        solara.v.Select(
            label=control.label,
            items=list(control.choices),
            v_model=text,
            on_v_model=set_text,
            density="compact",
            messages=notes,
            error_messages=errors,
            class_=classes,
        )
    elif control.kind == "seed":
        solara.v.TextField(
            label=control.label,
            v_model=text,
            on_v_model=set_text,
            density="compact",
            messages=notes,
            error_messages=errors,
            class_=classes,
        )
    else:
        with solara.Column(gap="0px", classes=[classes]):
            solara.Text(control.label, style={"font-size": "0.9em", "color": "#444"})
            with solara.Row(gap="8px", style={"align-items": "flex-start"}):
                solara.v.Slider(
                    v_model=slider_value,
                    min=control.low,
                    max=control.high,
                    step=control.step,
                    on_v_model=lambda v: set_text(control.text(control.snap(v))),
                    density="compact",
                    messages=notes,
                    error_messages=errors,
                    color="primary",
                    class_="classroom-slider",
                    style_="flex: 1 1 auto; min-width: 0",
                )
                solara.v.TextField(
                    v_model=text,
                    on_v_model=set_text,
                    density="compact",
                    variant="outlined",
                    hide_details=True,
                    error=bool(error),
                    class_="classroom-number",
                    style_="flex: 0 0 6.5em",
                )


def _slider_value(control: Control, values: Mapping[str, Any], model: ClassroomView) -> float:
    """Where a number's slider stands: the box's value if valid, else the running class's."""
    if control.kind != "number":
        return 0.0
    for value in (values.get(control.name), model.inputs[control.name]):
        try:
            return float(control.parse(value))
        except ParameterError:
            continue
    return float(control.low or 0.0)


def _initial_text(model: ClassroomView) -> dict[str, str]:
    return {c.name: c.text(model.inputs[c.name]) for c in CONTROLS}


@solara.component
def ClassroomApp(model: ClassroomView | None = None) -> None:  # noqa: N802
    """Show the view: its controls on the left; today's numbers, the class and its charts beside.

    Parameters
    ----------
    model : ClassroomView, optional
        The class to start with; by default each display (or browser session) gets a new
        one with the controls' defaults. The fields start from its inputs.

    Notes
    -----
    Reset builds a new :class:`~toolkit.viz.classroom.ClassroomView` from the fields, or, if a
    field is not valid, leaves the running class as it is and says why. Step advances the
    class by the chosen step (:data:`STEP_SIZES`); Play repeats that, one redraw per step (the
    next step waits until the page has drawn the last, then :data:`PLAY_PAUSE` seconds), until
    the last school year ends or Pause is pressed. An error while stepping stops Play and
    is shown beside the buttons; the page stays.
    """
    initial = solara.use_memo(lambda: model if model is not None else ClassroomView(), [])
    current = solara.use_reactive(initial)
    texts = solara.use_reactive(solara.use_memo(lambda: _initial_text(initial), []))
    tick = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    step_size = solara.use_reactive("week")
    notice = solara.use_reactive(None)
    lock = solara.use_memo(threading.Lock, [])
    # the last tick the page has drawn: Play takes a step only once the previous one is drawn,
    # so it never runs ahead of the display (on a slow or loaded machine it plays slower)
    drawn = solara.use_memo(lambda: {"tick": 0, "cv": threading.Condition()}, [])

    def mark_drawn() -> None:
        with drawn["cv"]:
            drawn["tick"] = max(drawn["tick"], tick.value)
            drawn["cv"].notify_all()

    solara.use_effect(mark_drawn, [tick.value])

    m = current.value
    values, errors = read_controls(texts.value)
    changed = changed_controls(values, m)

    def set_text(name: str) -> Callable[[str], None]:
        return lambda text: texts.set({**texts.value, name: "" if text is None else str(text)})

    def advance(*, playing_only: bool = False) -> bool:
        """Step the running class by the chosen step; return whether it can go on.

        Play passes ``playing_only``: once Pause has been pressed, it steps no more.
        """
        with lock:
            model_ = current.value
            if playing_only and not playing.value:
                return False
            try:
                for _ in range(STEP_SIZES[step_size.value]):
                    if not model_.running:
                        break
                    model_.step()
            except Exception as exc:  # the page must survive a failing step; say what failed
                _log.exception("the classroom view's model failed to step")
                notice.set(f"The class stopped on day {model_.day}: {exc}")
                playing.set(False)
                return False
        tick.set(tick.value + 1)
        return model_.running

    def reset() -> None:
        playing.set(False)
        fresh, errs = read_controls(texts.value)
        if errs:
            fields = [c.label for c in CONTROLS if c.name in errs]
            where = f"fix {', '.join(fields)} first (see the message under it)" if fields else ""
            notice.set(f"Not reset: {where or errs[''].rstrip('.')}.")
            return
        try:
            new = ClassroomView(**fresh)
        except ValueError as exc:  # a combination read_controls could not foresee
            notice.set(f"Not reset: {exc}")
            return
        with lock:
            current.set(new)
        notice.set(None)
        tick.set(tick.value + 1)

    def play(cancel: threading.Event) -> None:
        while playing.value and not cancel.is_set():
            if not advance(playing_only=True):
                break
            step = tick.value
            with drawn["cv"]:  # wait until the page has drawn this step
                drawn["cv"].wait_for(
                    lambda step=step: drawn["tick"] >= step or cancel.is_set(),
                    timeout=FRAME_TIMEOUT,
                )
            cancel.wait(PLAY_PAUSE)
        if playing.value and not current.value.running:
            playing.set(False)  # the last school year has ended

    def play_or_pause() -> None:
        if not playing.value:
            playing.set(True)
            return
        playing.set(False)
        with lock:  # wait for a step in progress: after Pause, the class does not move on
            pass

    solara.use_thread(play, dependencies=[playing.value], intrusive_cancel=False)

    with solara.Column(classes=["classroom-view"], style={"padding": "8px 12px"}):
        solara.Text(
            "Classroom regimes: one class, day by day",
            style={"font-size": "1.25em", "font-weight": "500"},
        )
        with solara.Row(gap="16px", style={"flex-wrap": "wrap", "align-items": "flex-start"}):
            with solara.Column(gap="12px", style={"flex": "0 0 340px", "max-width": "340px"}):
                with solara.Card("Run", margin=0, classes=["classroom-run"]):
                    _run_controls(
                        m,
                        playing,
                        step_size,
                        on_reset=reset,
                        on_step=advance,
                        on_play=play_or_pause,
                        notes=[c.label for c in changed],
                        problems=[x for x in (errors.get(""), notice.value) if x],
                    )
                with solara.Card(
                    "Settings", subtitle="Applied when Reset starts a new class", margin=0
                ):
                    for control in CONTROLS:
                        _field(
                            control,
                            texts.value[control.name],
                            errors.get(control.name),
                            control in changed,
                            set_text(control.name),
                            _slider_value(control, values, m),
                        )
            with solara.Column(gap="8px", style={"flex": "1 1 600px", "min-width": "0"}):
                StatsPanel(m, tick.value)
                with solara.Columns([2, 3]):
                    ClassroomPanel(m, tick.value)
                    OutcomePanel(m, tick.value)


def _run_controls(
    model: ClassroomView,
    playing: solara.Reactive[bool],
    step_size: solara.Reactive[str],
    *,
    on_reset: Callable[[], None],
    on_step: Callable[[], Any],
    on_play: Callable[[], None],
    notes: list[str],
    problems: list[str],
) -> None:
    """Emit Reset, Play/Pause and Step, the step size, and what is pending or went wrong."""
    with solara.Column(gap="8px"):
        with solara.Row(gap="8px"):
            solara.Button("Reset", on_click=on_reset, color="primary")
            solara.Button(
                "Pause" if playing.value else "Play",
                on_click=on_play,
                color="primary",
                disabled=not model.running,
            )
            solara.Button(
                "Step",
                on_click=on_step,
                color="primary",
                disabled=playing.value or not model.running,
            )
        solara.Text("Step and Play advance by", style={"font-size": "0.9em"})
        solara.ToggleButtonsSingle(
            value=step_size, values=list(STEP_SIZES), classes=["classroom-step-size"]
        )
        solara.Text(
            f"A school year has {model.params.n_days} school days: a week is "
            f"{STEP_SIZES['week']} of them, a month {STEP_SIZES['month']}.",
            style={"font-size": "0.8em", "color": "#555"},
        )
        if not model.running:
            solara.Info(
                f"The class has finished its {model.n_years} school year(s); Reset starts a "
                "new one.",
                dense=True,
                classes=["classroom-finished"],
            )
        if notes:
            solara.Warning(
                f"Not applied yet: {', '.join(notes)}. Reset starts a class with them.",
                dense=True,
                classes=["classroom-pending"],
            )
        for problem in problems:
            solara.Error(problem, dense=True, classes=["classroom-notice"])


class ClassroomPage:
    """The view, ready to display in Jupyter: ``page`` as the last line of a cell.

    Displaying it renders :func:`ClassroomApp` into a plain widget, not through Solara's
    Jupyter wrapper (see the module docstring); each display is a view of its own, with its own
    class unless ``model`` is given. For ``solara run``, or to place the view inside another
    Solara component, use :meth:`element` (or :func:`ClassroomApp` itself).

    Parameters
    ----------
    model : ClassroomView, optional
        The class to start with (default: a new one per display, with the controls' defaults).
    """

    def __init__(self, model: ClassroomView | None = None) -> None:
        self.model = model

    def element(self) -> Any:
        """Return the Solara element of the view (:func:`ClassroomApp`)."""
        return ClassroomApp(self.model)

    def widget(self) -> Any:
        """Render the view into a new widget; it is torn down when its last view closes."""
        ipywidgets = require("ipywidgets", "The classroom view as a widget")
        reacton = require("reacton", "The classroom view as a widget")

        box = ipywidgets.VBox(_view_count=0)
        _, context = reacton.render(self.element(), container=box)
        shown = False

        def close_when_unseen(change: dict) -> None:  # as reacton does for displayed elements
            nonlocal shown
            shown = shown or change["new"] > 0
            if shown and change["new"] == 0:
                context.close()
                box.close()

        box.observe(close_when_unseen, "_view_count")
        return box

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        return self.widget()._repr_mimebundle_(include=include, exclude=exclude)

    def __repr__(self) -> str:
        return f"ClassroomPage(model={self.model!r})"


def make_page(model: ClassroomView | None = None) -> ClassroomPage:
    """Return the view for display in JupyterLab (``page`` last in a cell).

    Parameters
    ----------
    model : ClassroomView, optional
        The class to start with (default: a new one per display, with the controls'
        defaults).

    Returns
    -------
    ClassroomPage
        Its :meth:`~ClassroomPage.element` is the Solara element, for ``solara run``.
    """
    return ClassroomPage(model)
