"""Studies: study files, the resumable runner, and the analysis of a run."""

from toolkit.study.runner import RunResult, run_study
from toolkit.study.spec import StudyError, StudySpec, load_study, parse_study

__all__ = ["RunResult", "StudyError", "StudySpec", "load_study", "parse_study", "run_study"]
