"""Analysis helpers for real survey and assessment data, agreeing with R.

Modules
-------
readers
    CSV, Excel, SPSS ``.sav``, Stata ``.dta`` (value labels via pyreadstat) and Qualtrics
    exports; question text and value labels kept in ``DataFrame.attrs``.
codebook
    :class:`Codebook` (TOML or CSV): Likert labels to numbers, reverse keys, missing codes,
    validation reports naming columns and rows, scale scores.
reliability
    :func:`cronbach_alpha` (the whole ``psych::alpha`` table), :func:`score_items`
    (``psych::scoreItems``), :func:`omega` (``psych::omega``, Schmid-Leiman).
multilevel
    :func:`icc` and :func:`mixed_model` (statsmodels MixedLM by REML, reported as lme4 does);
    :func:`nested_model` and :func:`nested_icc` for three levels (students, classes, schools).
lsa
    Replicate weights (Fay/BRR, JK1, JK2, JKn with a finite population correction; PISA,
    TIMSS, PIRLS presets), Taylor-linearised means for cluster/stratified designs, and
    plausible values (Rubin's rules): means, percentages, percentiles, correlations,
    regressions, spread.
diversity
    Effect-size tables and diversity of outcomes by group and by class, through
    :mod:`toolkit.metrics`.

The charts of questionnaire data (Likert diverging bars, item-by-group heatmaps, distributions
by group) are in :mod:`toolkit.charts.survey` (``from toolkit.charts import likert_bars``): the
survey helpers compute, the chart layer above them draws.

Every statistic is checked against R in ``tests/survey`` (scripts in ``tests/reference``).
"""

from toolkit.survey.codebook import Codebook, CodebookItem, ResponseSet, read_codebook
from toolkit.survey.diversity import (
    ClusterDiversity,
    diversity_by_cluster,
    diversity_by_group,
    effect_size_table,
)
from toolkit.survey.lsa import (
    ReplicateDesign,
    ResultTable,
    jackknife_design,
    lsa_cor,
    lsa_mean,
    lsa_percent,
    lsa_quantile,
    lsa_regression,
    lsa_spread,
    pirls_design,
    pisa_design,
    replicate_design,
    rubin_combine,
    taylor_mean,
    timss_design,
    with_replicates,
)
from toolkit.survey.multilevel import (
    MixedModelResult,
    icc,
    mixed_model,
    nested_icc,
    nested_model,
)
from toolkit.survey.readers import (
    question_text,
    read_csv,
    read_excel,
    read_qualtrics,
    read_spss,
    read_stata,
    read_survey,
)
from toolkit.survey.reliability import (
    AlphaResult,
    OmegaResult,
    ScoreItemsResult,
    cronbach_alpha,
    omega,
    parse_keys,
    score_items,
)

__all__ = [
    "AlphaResult",
    "ClusterDiversity",
    "Codebook",
    "CodebookItem",
    "MixedModelResult",
    "OmegaResult",
    "ReplicateDesign",
    "ResponseSet",
    "ResultTable",
    "ScoreItemsResult",
    "cronbach_alpha",
    "diversity_by_cluster",
    "diversity_by_group",
    "effect_size_table",
    "icc",
    "jackknife_design",
    "lsa_cor",
    "lsa_mean",
    "lsa_percent",
    "lsa_quantile",
    "lsa_regression",
    "lsa_spread",
    "mixed_model",
    "nested_icc",
    "nested_model",
    "omega",
    "parse_keys",
    "pirls_design",
    "pisa_design",
    "question_text",
    "read_codebook",
    "read_csv",
    "read_excel",
    "read_qualtrics",
    "read_spss",
    "read_stata",
    "read_survey",
    "replicate_design",
    "rubin_combine",
    "score_items",
    "taylor_mean",
    "timss_design",
    "with_replicates",
]
