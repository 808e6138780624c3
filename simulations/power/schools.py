"""What the school level costs a trial: the model's three-level ICCs and the clusters needed.

    ./run.sh python simulations/power/schools.py [simulations/power/schools.toml]

Simulates the pool of the power study (classrooms nested in schools, both arms), measures the
reference arm through the synthetic survey, estimates the school and class ICCs (and what the
pretest explains at each level) with toolkit.survey.nested_model, and prints the schools or
classes a trial needs for 80% power to detect the model's predicted effect, with the school
level and without it (toolkit.power.school_level_cost). Then it simulates whole trials drawn
from the pool (schools randomized, and classes randomized within schools) at the study's
sizes and prints their power beside the closed form's. Writes the text to
simulations/power/schools-output.txt.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pandas as pd

from toolkit.power import ModelTrial, power_curve
from toolkit.power.closed_form import three_level_power
from toolkit.power.schools import school_level_cost, three_level_components
from toolkit.power.study import POWER_KEY, load_power
from toolkit.study.runner import run_study
from toolkit.synthetic import synthetic_survey

HERE = Path(__file__).parent


def _shown(path: Path) -> str:
    """The study file's path relative to the repository (as the output file shows it)."""
    try:
        return str(path.resolve().relative_to(HERE.parents[1]))
    except ValueError:
        return str(path)


def main(path: Path) -> str:
    spec = load_power(path)
    st = spec.study
    folder = Path(st.folder)
    arms = {a: st.arms[a] for a in (st.reference, spec.treatment)}
    pool_spec = dataclasses.replace(st, arms=arms, name=f"{st.name}-pool")
    pool_dir = folder / "pool"
    run = run_study(
        pool_spec,
        pool_dir,
        resume=(pool_dir / "manifest.json").is_file(),
        progress=False,
        analyse=lambda result, _spec: result,
    )
    students = run.students
    students = students[students["year"] == students["year"].max()]
    students = students.assign(arm=students["arm"].astype(str))
    design = spec.survey
    data = synthetic_survey(students, design, rng=st.seed)
    ref = data[data["arm"] == st.reference]
    comp = three_level_components(ref)
    # how the model's effect varies: each classroom's effect (both arms on the same students)
    true = students.groupby(["arm", "replicate", "school"], observed=True)["core_end"].mean()
    per_class = (true[spec.treatment] - true[st.reference]) / ref["posttest"].std()
    per_school = per_class.groupby(level="school").mean()
    effect = float(per_class.mean())  # true scores, in SD units of the measured reference arm
    m = round(comp.classes_per_school)
    lines = [
        f"{st.title}",
        f"{_shown(path)} | seed {st.seed} | pool {st.classrooms} classrooms in {st.schools} "
        f"schools of {m}, both arms | survey: reliability {design.test_reliability}, "
        f"{design.students_per_class} students per class, response {design.student_response}",
        "",
        f"The model's {st.reference} classes, as the survey measures them "
        f"({comp.students} students, {comp.classes} classes, {comp.schools} schools):",
        f"  ICC school {comp.icc_school:.3f}, class within school {comp.icc_class:.3f} "
        f"(same class {comp.icc_school + comp.icc_class:.3f})",
        f"  the pretest explains {comp.r2_school:.2f} of the school, {comp.r2_class:.2f} of the "
        f"class and {comp.r2_student:.2f} of the student variance of the posttest",
        f"  predicted effect of {spec.treatment} vs {st.reference}: {effect:+.3f} SD of the "
        "reference arm's posttest (true scores; the model's prediction, not a measured effect)",
        f"  it varies: SD {per_class.std():.3f} between classrooms (true scores, same students "
        f"in both arms), SD {per_school.std():.3f} between the schools' means",
        "",
    ]
    with pd.option_context("display.width", 140):
        for covariate in (False, True):
            cost = school_level_cost(comp, effect, classes_per_school=m, covariate=covariate)
            cost["students"] = cost["students"].round().astype(int)
            cost["schools"] = cost["schools"].astype("Int64")
            what = "with the pretest as covariate" if covariate else "posttest only"
            lines += [
                f"Needed for {spec.target:.0%} power (alpha {spec.alpha}), {what}, "
                f"{comp.n_per_class:.1f} students per class, {m} classes per school:",
                cost.to_string(index=False, float_format=lambda v: f"{v:.3f}"),
                "",
            ]
    # simulated trials drawn from the pool, beside the closed form
    lines.append(
        f"Simulated trials drawn from the pool ({spec.replications} per size; the mixed model "
        "with the pretest), power of the test of the mean:"
    )
    rows = []
    for k, randomize in enumerate(("school", "class_in_school")):
        trial = ModelTrial(students, st.reference, spec.treatment, design, randomize, "posttest")
        curve = power_curve(
            trial,
            trial.analysis(spread=False),
            spec.sizes,
            spec.replications,
            seed=st.seed,
            key=(POWER_KEY, 100 + k),
            alpha=spec.alpha,
            power=spec.target,
        )
        for r in curve.table.to_dict("records"):
            closed = three_level_power(
                effect,
                int(r["size"]),
                spec.alpha,
                classes_per_school=m,
                n_per_class=comp.n_per_class,
                icc_school=comp.icc_school,
                icc_class=comp.icc_class,
                randomize=randomize,
                covariates=1,
                r2_school=comp.r2_school,
                r2_class=comp.r2_class,
                r2_student=comp.r2_student,
            )
            rows.append(
                {
                    "randomized": randomize,
                    "schools": int(r["size"]),
                    "simulated": r["power_effect"],
                    "se": r["power_effect_se"],
                    "closed_form": closed,
                    "effect_mean": r["effect_mean"],
                }
            )
    table = pd.DataFrame(rows)
    lines.append(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    lines += [
        "",
        "The closed form uses the ICCs and R^2 estimated above (one survey of the reference "
        "arm, as a planner with control-group data would) and a constant effect in SD units of "
        "the reference arm. The simulated trials fall short of it: the model's effect varies "
        "between classrooms (the SD above, larger than the effect), which adds to the variance "
        "of every treated school's mean and of every within-school contrast, and which no "
        "ICC of one arm shows. Planning a real trial from control-arm ICCs alone would "
        "overstate its power by the gap between the two columns.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    study = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "schools.toml"
    text = main(study)
    (HERE / "schools-output.txt").write_text(text)
    print(text)
