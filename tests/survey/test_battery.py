"""Issue 19: a battery of messy survey inputs, each correct, refused or warned, none wrong.

tests/survey/battery/make_battery.py writes every input (SPSS, Stata, CSV in several encodings
and separators, Excel, Qualtrics exports, replicate-weight files, codebooks) into a temporary
folder and says what must happen to it. A case fails if it ends otherwise: a result that
differs from the right answer computed there, a warning or error that does not name the
problem, or an error from inside a library.
"""

from collections import Counter

import pytest


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory, battery):
    cases = battery.build(tmp_path_factory.mktemp("battery"))
    return [battery.classify(c) for c in cases]


def test_battery_has_at_least_100_cases_of_every_kind(outcomes):
    assert len(outcomes) >= 100
    kinds = Counter(o.case.expect for o in outcomes)
    assert set(kinds) == {"correct", "refused", "warned"}
    assert all(n >= 10 for n in kinds.values()), kinds


def test_no_case_is_silently_wrong_or_unclassified(outcomes):
    failed = [
        f"{o.case.name}: expected {o.case.expect}, got {o.got}: {o.message[:400]}"
        for o in outcomes
        if not o.ok
    ]
    assert not failed, "\n".join(failed)


def test_a_wrong_answer_is_caught_by_the_classifier(battery):
    # the classifier itself must be able to fail: a plausible number that is not the right one
    case = battery.Case("wrong", "correct", lambda: 0.68, lambda a: abs(a - 0.69) < 1e-9)
    assert battery.classify(case).got == "wrong" and not battery.classify(case).ok
    raised = battery.Case("lib", "refused", lambda: {}["x"], match="x")
    assert battery.classify(raised).got == "traceback"
    vague = battery.Case("vague", "refused", lambda: int("x"), match="column 'q1'")
    assert not battery.classify(vague).ok
