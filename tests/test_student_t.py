"""Student's t without scipy.stats: the very numbers of scipy.stats, and a run that skips it."""

import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from toolkit.metrics.student_t import t_ppf, t_sf

QS = [0.0, 1e-12, 0.025, 0.05, 0.5, 0.9, 0.975, 0.995, 1.0, -0.1, 1.1, math.nan]
DFS = [0.0, -1.0, 0.5, 1, 2, 3.7, 19, 59, 199, 1e6, math.inf, math.nan]
XS = [-math.inf, -30.0, -2.0, -0.0, 0.0, 1e-9, 1.96, 2.5, 40.0, math.inf, math.nan]


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or (
        a == b and math.copysign(1, a) == math.copysign(1, b)
    )


@pytest.mark.parametrize("df", DFS)
def test_t_ppf_is_scipy_stats_bit_for_bit(df):
    for q in QS:
        expected = float(stats.t.ppf(q, df))
        assert _same(t_ppf(q, df), expected), (q, df, t_ppf(q, df), expected)


@pytest.mark.parametrize("df", DFS)
def test_t_sf_is_scipy_stats_bit_for_bit(df):
    for x in XS:
        expected = float(stats.t.sf(x, df))
        assert _same(t_sf(x, df), expected), (x, df, t_sf(x, df), expected)


def test_t_functions_take_numpy_scalars():
    assert t_ppf(np.float64(0.975), np.int64(9)) == float(stats.t.ppf(0.975, 9))
    assert t_sf(np.float64(2.0), np.int64(9)) == float(stats.t.sf(2.0, 9))


def test_command_line_and_analysis_import_without_scipy_stats():
    """The command line, a run's analysis and the decomposition need no scipy.stats (it takes
    about half a second to import, a good part of a small study's run); nor do they import
    scipy.special or scipy.spatial until an interval or a non-Euclidean distance is computed
    (a run's workers, which import these modules in their fork server, never need them)."""
    code = (
        "import sys, toolkit.cli, toolkit.study.analysis, toolkit.study.decompose, "
        "toolkit.study.units, toolkit.charts.runs; print(sorted(m for m in sys.modules if "
        "m.startswith(('scipy.stats', 'scipy.special', 'scipy.spatial')) or m == 'scipy.optimize'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_scipy_special_can_be_imported_in_the_background():
    """A run's command line imports scipy.special while its workers simulate
    (``import_in_background``, called by ``prepare_run`` on a pool of workers), not when its
    first interval is asked for; the numbers are those of a process that imported it at once."""
    code = (
        "import sys\n"
        "from toolkit.metrics.student_t import import_in_background, t_ppf\n"
        "assert 'scipy.special' not in sys.modules\n"
        "thread = import_in_background()\n"
        "q = t_ppf(0.975, 199)  # may come before the import ends: it waits for it\n"
        "thread.join(60)\n"
        "print(thread.daemon, 'scipy.special' in sys.modules, repr(q))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True", repr(float(stats.t.ppf(0.975, 199)))]


def test_a_run_on_workers_imports_scipy_special_before_its_tables(monkeypatch):
    """prepare_run starts the import on a pool of workers, and only there."""
    from toolkit.study import analysis
    from toolkit.study.pool import SerialPool

    started = []
    monkeypatch.setattr(analysis, "import_in_background", lambda: started.append(1))
    monkeypatch.setattr(analysis, "_submit_decomposition", lambda spec, pool, early: [])
    monkeypatch.setattr(analysis.plugins, "declared", lambda name: None)

    class Workers:  # a pool of workers, as far as prepare_run looks
        sees_folder = True

    run = type("Run", (), {})()
    analysis.prepare_run(run, None, SerialPool())
    assert started == []
    analysis.prepare_run(run, None, Workers())
    assert started == [1]
