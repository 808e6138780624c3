"""A battery of messy but realistic survey inputs, each with the outcome it must have (issue 19).

Every case writes its input (SPSS ``.sav``, Stata ``.dta``, CSV in several encodings and
separators, Excel, Qualtrics exports, replicate-weight files, codebooks) into a folder and runs
the survey helpers on it, the way an analyst would. Each case says what must happen:

``correct``
    the helpers return a result, without a warning, that equals a right answer computed here
    independently (closed-form alpha, means and SEs, the frame that was written);
``refused``
    they raise ValueError or TypeError with a message that names the problem (checked);
``warned``
    they return with a UserWarning that names the problem (checked).

Anything else (a result that differs from the right answer, an unexpected warning, an error
from inside a library, a message that does not say what is wrong) is a failure:
tests/survey/test_battery.py runs every case. From the command line::

    ./run.sh python tests/survey/battery/make_battery.py [FOLDER]

writes the files into FOLDER (default: a temporary folder) and prints each case's outcome.
"""

from __future__ import annotations

import re
import sys
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyreadstat
from scipy.linalg import hadamard

from toolkit.survey import (
    Codebook,
    CodebookItem,
    cronbach_alpha,
    jackknife_design,
    lsa_mean,
    mixed_model,
    pisa_design,
    read_codebook,
    read_csv,
    read_excel,
    read_qualtrics,
    read_spss,
    read_stata,
    read_survey,
    replicate_design,
    score_items,
    taylor_mean,
    with_replicates,
)

ITEMS = ["q1", "q2", "q3", "q4", "q5"]


@dataclass
class Case:
    """One messy input and the outcome it must have."""

    name: str
    expect: str  # "correct", "refused" or "warned"
    run: Callable[[], Any]
    check: Callable[[Any], bool] | None = None  # correct: the right answer
    match: str = ""  # refused / warned: the message must contain this (regex)


@dataclass
class Outcome:
    """What happened when a case ran."""

    case: Case
    got: str  # "correct", "wrong", "refused", "warned", "traceback"
    message: str
    ok: bool


def classify(case: Case) -> Outcome:
    """Run a case and say whether it ended as it must."""
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        try:
            value = case.run()
        except (ValueError, TypeError) as exc:
            msg = f"{type(exc).__name__}: {exc}"
            ok = case.expect == "refused" and re.search(case.match, str(exc), re.S) is not None
            return Outcome(case, "refused", msg, ok)
        except Exception as exc:  # an error from inside a library: never acceptable
            return Outcome(case, "traceback", f"{type(exc).__name__}: {exc}", False)
    user = [str(w.message) for w in rec if issubclass(w.category, UserWarning)]
    if user:
        msg = "\n".join(user)
        ok = case.expect == "warned" and re.search(case.match, msg, re.S) is not None
        return Outcome(case, "warned", msg, ok)
    try:
        right = case.check is not None and bool(case.check(value))
    except Exception:  # a result of the wrong kind is a wrong result
        right = False
    return Outcome(case, "correct" if right else "wrong", "", case.expect == "correct" and right)


# ---------------------------------------------------------------------------------------------
# right answers, computed here without the toolkit
# ---------------------------------------------------------------------------------------------


def alpha_of(x: pd.DataFrame) -> float:
    """Cronbach's alpha of complete rows: k/(k-1) (1 - sum of item variances / total variance)."""
    x = x.dropna().to_numpy(dtype=float)
    k = x.shape[1]
    return k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))


def close(a: float, b: float, tol: float = 1e-9) -> bool:
    return bool(abs(a - b) <= tol * max(1.0, abs(b)))


def same_frame(expected: pd.DataFrame, cols: list[str] | None = None) -> Callable[[Any], bool]:
    def check(df: pd.DataFrame) -> bool:
        use = cols or list(expected.columns)
        got = df[use].reset_index(drop=True)
        want = expected[use].reset_index(drop=True)
        try:
            pd.testing.assert_frame_equal(got, want, check_dtype=False)
        except AssertionError:
            return False
        return True

    return check


def likert(n: int = 300, k: int = 6, seed: int = 1, items: list[str] = ITEMS) -> pd.DataFrame:
    """Correlated items on a 1..k scale, no missing answers."""
    rng = np.random.default_rng(seed)
    lat = rng.normal(size=n)
    cols = {c: np.clip(np.round((k + 1) / 2 + 1.2 * lat + rng.normal(size=n)), 1, k) for c in items}
    return pd.DataFrame(cols)


def with_code(df: pd.DataFrame, code: float, share: float, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = df.copy()
    for c in ITEMS:
        out.loc[rng.random(len(out)) < share, c] = code
    return out


def paired(n_strata: int, n_reps: int, k: float, seed: int = 0) -> tuple[pd.DataFrame, list[str]]:
    """Two PSUs (one row each) per stratum, BRR (k = 0) or Fay replicates, weights 10..40."""
    rng = np.random.default_rng(seed)
    h = hadamard(n_reps)[:, 1 : n_strata + 1]
    stratum = np.repeat(np.arange(n_strata), 2)
    sign = h[:, stratum] * np.tile([1, -1], n_strata)[None, :]
    w = np.full(2 * n_strata, 25.0)
    cols = [f"REPW{r}" for r in range(1, n_reps + 1)]
    reps = pd.DataFrame(w[:, None] * np.where(sign > 0, 2 - k, k).T, columns=cols)
    df = pd.DataFrame({"y": rng.normal(500, 100, 2 * n_strata), "W": w, "stratum": stratum})
    return pd.concat([df, reps], axis=1), cols


def paired_se(df: pd.DataFrame) -> float:
    """SE of the weighted total over two-PSU strata: w sqrt(sum_h (y_h1 - y_h2)^2)."""
    d = df["y"].to_numpy().reshape(-1, 2)
    return float(df["W"].iloc[0] * np.sqrt(((d[:, 0] - d[:, 1]) ** 2).sum()))


def jk1(n: int = 40, seed: int = 0) -> tuple[pd.DataFrame, list[str]]:
    rng = np.random.default_rng(seed)
    cols = [f"JKW{r}" for r in range(1, n + 1)]
    reps = pd.DataFrame(n / (n - 1) * (1 - np.eye(n)), columns=cols)
    return pd.concat([pd.DataFrame({"y": rng.normal(50, 10, n), "W": 1.0}), reps], axis=1), cols


def total(d: pd.DataFrame, w: np.ndarray) -> float:
    return float(np.sum(w * d["y"].to_numpy()))


def se_of(table: pd.DataFrame) -> float:
    return float(table["se"].iloc[0])


# ---------------------------------------------------------------------------------------------
# the cases
# ---------------------------------------------------------------------------------------------


def reliability_cases() -> list[Case]:
    """Missing-value codes typed in as answers, on 1-5, 1-6 and 1-7 scales."""
    out = []
    clean = likert()
    right = alpha_of(clean)
    out.append(
        Case(
            "alpha on clean answers",
            "correct",
            lambda: cronbach_alpha(clean).alpha,
            lambda a: close(a, right),
        )
    )
    keyed = clean.assign(q2=7 - clean["q2"])
    out.append(
        Case(
            "alpha with a reverse-keyed item",
            "correct",
            lambda: cronbach_alpha(keyed, ["q1", "-q2", "q3", "q4", "q5"], min=1, max=6).alpha,
            lambda a: close(a, right),
        )
    )
    out.append(
        Case(
            "score_items on clean answers",
            "correct",
            lambda: score_items(clean, {"s": ITEMS}).stats["alpha"].iloc[0],
            lambda a: close(a, right),
        )
    )
    for code in (-99, -9, -1, 9, 99, 999, 98, 97):
        for share in (0.01, 0.05):
            bad = with_code(clean, code, share)
            out.append(
                Case(
                    f"alpha, {code} in {share:.0%} of a 1-6 scale",
                    "refused",
                    lambda bad=bad: cronbach_alpha(bad).alpha,
                    match=rf"{code}\b.*in 'q1'.*missing=\[{code}\]",
                )
            )
        bad = with_code(clean, code, 0.03)
        out.append(
            Case(
                f"score_items, {code} in 3% of a 1-6 scale",
                "refused",
                lambda bad=bad: score_items(bad, {"s": ITEMS}).stats["alpha"].iloc[0],
                match=rf"score_items: .*{code}\b",
            )
        )
        masked = bad.mask(bad == code)
        out.append(
            Case(
                f"alpha, {code} declared with missing=",
                "correct",
                lambda bad=bad, code=code: cronbach_alpha(bad, missing=[code]).alpha,
                lambda a, masked=masked: close(a, cronbach_alpha(masked).alpha, 1e-12),
            )
        )
    five = likert(k=5, seed=4)
    for code in (8, 9):
        bad = with_code(five, code, 0.03)
        out.append(
            Case(
                f"alpha, {code} in 3% of a 1-5 scale",
                "refused",
                lambda bad=bad: cronbach_alpha(bad).alpha,
                match=rf"{code} \(the other answers",
            )
        )
    seven_on_five = with_code(five, 7, 0.03)  # 6 unused: a 1-7 scale nobody answered 6 on?
    out.append(
        Case(
            "alpha, 7 in 3% of a 1-5 scale (one unused value)",
            "warned",
            lambda: cronbach_alpha(seven_on_five).alpha,
            match=r"7 \(after an unused 6\)",
        )
    )
    out.append(
        Case(
            "score_items, 9 on a 1-7 scale (one unused value)",
            "warned",
            lambda: score_items(with_code(likert(k=7, seed=5), 9, 0.03), {"s": ITEMS}),
            match=r"score_items: .*9 \(after an unused 8\)",
        )
    )
    unkeyed = clean.assign(q2=7 - clean["q2"])
    out.append(
        Case(
            "alpha, a reverse-worded item left unkeyed",
            "warned",
            lambda: cronbach_alpha(unkeyed).alpha,
            match=r"\['q2'\].*probably should be reversed",
        )
    )
    seven = with_code(likert(k=7, seed=5), 9, 0.03)
    out.append(
        Case(
            "alpha, 9 on a 1-7 scale (one unused value)",
            "warned",
            lambda: cronbach_alpha(seven).alpha,
            match=r"9 \(after an unused 8\)",
        )
    )
    rare = clean.copy()
    rare.loc[[3, 50, 120], "q2"] = 0
    rare.loc[[7, 80], "q4"] = 7
    out.append(
        Case(
            "alpha, 0 and 7 typed for no answer (rare, next to 1-6)",
            "warned",
            lambda: cronbach_alpha(rare).alpha,
            match=r"0 \(rare;.*7 \(rare;",
        )
    )
    out.append(
        Case(
            "alpha, 0 and 7 outside a declared 1-6 scale",
            "refused",
            lambda: cronbach_alpha(rare, min=1, max=6).alpha,
            match=r"outside the declared scale",
        )
    )
    half = clean.copy()
    half.loc[11, "q3"] = 3.5
    out.append(
        Case(
            "alpha, a non-integer value among integer answers",
            "warned",
            lambda: cronbach_alpha(half).alpha,
            match=r"3.5 \(not a whole number\) in 'q3'",
        )
    )
    labelled = with_code(likert(k=5, seed=6), 7, 0.02)
    labelled.attrs["value_labels"] = {c: {1: "Never", 5: "Always"} for c in ITEMS}
    out.append(
        Case(
            "alpha, a code outside the labelled 1-5 scale",
            "refused",
            lambda: cronbach_alpha(labelled).alpha,
            match=r"7 outside its scale 1 to 5",
        )
    )
    cont = pd.DataFrame(
        {
            c: 50 + 10 * np.linspace(-1, 1, 200) + np.sin(np.arange(200) * (j + 1)) * 5
            for j, c in enumerate(ITEMS)
        }
    )
    out.append(
        Case(
            "alpha of continuous scores (not screened as a rating scale)",
            "correct",
            lambda: cronbach_alpha(cont).alpha,
            lambda a: close(a, alpha_of(cont)),
        )
    )
    return out


def reversal_cases() -> list[Case]:
    """Items reversed by recode and again by keys."""
    base = likert(k=5, seed=7)
    raw = base.assign(q2=6 - base["q2"])
    right = alpha_of(base)
    cb = Codebook([CodebookItem(c, scale="s", min=1, max=5, reverse=c == "q2") for c in ITEMS])
    rec = cb.recode(raw)
    lost = pd.DataFrame(rec.to_dict())
    return [
        Case(
            "recode, then alpha without keys",
            "correct",
            lambda: cronbach_alpha(rec, ITEMS).alpha,
            lambda a: close(a, right),
        ),
        Case(
            "recode, then alpha with the codebook's keys",
            "refused",
            lambda: cronbach_alpha(rec, cb.keys["s"]).alpha,
            match="already reverse-keyed",
        ),
        Case(
            "recode, then alpha with reverse=",
            "refused",
            lambda: cronbach_alpha(rec, ITEMS, reverse=["q2"]).alpha,
            match="already reverse-keyed",
        ),
        Case(
            "recode, then score_items with the keys",
            "refused",
            lambda: score_items(rec, cb.keys),
            match="already reverse-keyed",
        ),
        Case(
            "recode, then Codebook.score",
            "refused",
            lambda: cb.score(rec),
            match="already reversed by recode",
        ),
        Case(
            "recode twice",
            "refused",
            lambda: cb.recode(rec),
            match="already reversed by an earlier recode",
        ),
        Case(
            "recode, mark lost, keyed again",
            "warned",
            lambda: cronbach_alpha(lost, cb.keys["s"]).alpha,
            match="correlate negatively with the scale after keying",
        ),
        Case(
            "recode with errors='coerce' and an unknown label",
            "warned",
            lambda: cb.recode(raw.astype(object).assign(q3=["x", *raw["q3"][1:]]), errors="coerce"),
            match=r"set offending cells to NaN.*'q3'.*'x'",
        ),
        Case(
            "Codebook.score on the raw data",
            "correct",
            lambda: cb.score(raw).stats["alpha"].iloc[0],
            lambda a: close(a, right),
        ),
    ]


def csv_cases(folder: Path) -> list[Case]:
    """CSV exports: separators, encodings, decimal commas, thousands, footers, bad headers."""
    out = []
    frame = pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "city": ["Zürich", "Montréal", "São Paulo", "Köln"],
            "q1": [1, 4, 2, 5],
            "q2": [3.0, np.nan, 1.0, 2.0],
        }
    )
    for sep, sname in ((",", "comma"), (";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
        for enc in ("utf-8", "utf-8-sig", "utf-16", "cp1252"):
            path = folder / f"export_{sname}_{enc}.csv"
            path.write_bytes(frame.to_csv(index=False, sep=sep).encode(enc))
            read_enc = "cp1252" if enc == "cp1252" else "utf-8-sig"
            out.append(
                Case(
                    f"CSV, {sname}-separated, {enc}",
                    "correct",
                    lambda p=path, e=read_enc: read_survey(p, encoding=e),
                    same_frame(frame),
                )
            )
    latin = folder / "latin1.csv"
    latin.write_bytes(frame.to_csv(index=False).encode("latin-1"))
    out.append(
        Case(
            "CSV in Latin-1 read as UTF-8",
            "refused",
            lambda: read_csv(latin),
            match=r"byte 0x[0-9a-f]{2} on line \d+.*encoding='cp1252'",
        )
    )
    out.append(
        Case(
            "CSV in Latin-1 with encoding=",
            "correct",
            lambda: read_csv(latin, encoding="latin-1"),
            same_frame(frame),
        )
    )
    euro = folder / "euro.csv"
    euro.write_text("id;weight\n1;1,5\n2;2,25\n3;0,75\n")
    out.append(
        Case(
            "CSV with decimal commas",
            "warned",
            lambda: read_csv(euro),
            match="decimal commas.*decimal=','",
        )
    )
    out.append(
        Case(
            "CSV with decimal commas and decimal=','",
            "correct",
            lambda: read_csv(euro, decimal=","),
            same_frame(pd.DataFrame({"id": [1, 2, 3], "weight": [1.5, 2.25, 0.75]})),
        )
    )
    thousands = folder / "thousands.csv"
    thousands.write_text('id,W\n1,"31,302"\n2,"1,204"\n3,"12,500"\n')
    out.append(
        Case(
            "CSV with thousands separators",
            "warned",
            lambda: read_csv(thousands),
            match="thousands separators.*thousands=','",
        )
    )
    out.append(
        Case(
            "CSV with thousands separators and thousands=','",
            "correct",
            lambda: read_csv(thousands, thousands=","),
            same_frame(pd.DataFrame({"id": [1, 2, 3], "W": [31302, 1204, 12500]})),
        )
    )
    items = likert(n=40, seed=8).astype(int)
    items.insert(0, "id", range(1, 41))
    body = items.to_csv(index=False)
    means = ",".join(f"{v:.2f}" for v in items[ITEMS].mean())
    for label in ("Mean", "Total", "Average", "SD", "N"):
        path = folder / f"footer_{label}.csv"
        path.write_text(body + f"{label},{means}\n")
        out.append(
            Case(
                f"CSV with a '{label}' row under the data",
                "refused",
                lambda p=path: read_csv(p),
                match=rf"summary rows.*'{label}'.*file lines \[42\]",
            )
        )
    both = folder / "footer_both.csv"
    both.write_text(body + f"\nMean,{means}\nTotal,{','.join('0' * 5)}\n")
    out.append(
        Case(
            "CSV footer dropped with footer='drop'",
            "correct",
            lambda: read_csv(both, footer="drop"),
            same_frame(items),
        )
    )
    out.append(
        Case(
            "CSV footer kept, then alpha",
            "refused",
            lambda: cronbach_alpha(read_csv(both, footer="keep"), ITEMS),
            match="cronbach_alpha: the last rows look like summary rows",
        )
    )
    named = folder / "names.csv"
    named.write_text("name,q1\nAnna,3\nMax,4\nN,2\n")
    out.append(
        Case(
            "CSV whose last respondent is called Max / N",
            "correct",
            lambda: read_csv(named),
            same_frame(pd.DataFrame({"name": ["Anna", "Max", "N"], "q1": [3, 4, 2]})),
        )
    )
    dup = folder / "dup.csv"
    dup.write_text("id,q1,q1\n1,2,3\n")
    out.append(
        Case(
            "CSV with a duplicated column name",
            "refused",
            lambda: read_csv(dup),
            match=r"duplicated column names \['q1'\]",
        )
    )
    ragged = folder / "ragged.csv"
    ragged.write_text("id,q1\n1,2\n2,3,4\n")
    out.append(
        Case(
            "CSV with a ragged row",
            "refused",
            lambda: read_csv(ragged),
            match=r"could not read .* as CSV",
        )
    )
    return out


def excel_cases(folder: Path) -> list[Case]:
    frame = pd.DataFrame({"id": [1, 2, 3], "q1": [3, 4, 2], "q2": [1.0, np.nan, 5.0]})
    plain = folder / "plain.xlsx"
    frame.to_excel(plain, index=False)
    titled = folder / "titled.xlsx"
    pd.DataFrame(
        [["Wave 1, spring", None, None], ["id", "q1", "q2"], *frame.to_numpy().tolist()]
    ).to_excel(titled, header=False, index=False)
    sheets = folder / "sheets.xlsx"
    with pd.ExcelWriter(sheets) as xw:
        frame.to_excel(xw, sheet_name="wave1", index=False)
        (frame.assign(q1=frame["q1"] + 1)).to_excel(xw, sheet_name="wave2", index=False)
    footer = folder / "footer.xlsx"
    pd.concat([frame, pd.DataFrame([{"id": "Total", "q1": 9, "q2": 6.0}])]).to_excel(
        footer, index=False
    )
    dup = folder / "dup.xlsx"
    pd.DataFrame([["id", "q1", "q1"], [1, 2, 3]]).to_excel(dup, header=False, index=False)
    return [
        Case("Excel sheet", "correct", lambda: read_survey(plain), same_frame(frame)),
        Case(
            "Excel with a title row, header=1",
            "correct",
            lambda: read_excel(titled, header=1),
            same_frame(frame),
        ),
        Case(
            "Excel with a title row, read_survey(header=1)",
            "correct",
            lambda: read_survey(titled, header=1),
            same_frame(frame),
        ),
        Case(
            "Excel second sheet by name",
            "correct",
            lambda: read_excel(sheets, sheet="wave2"),
            same_frame(frame.assign(q1=frame["q1"] + 1)),
        ),
        Case(
            "Excel second sheet with sheet_name=",
            "correct",
            lambda: read_excel(sheets, sheet_name=1),
            same_frame(frame.assign(q1=frame["q1"] + 1)),
        ),
        Case(
            "Excel with a 'Total' row",
            "refused",
            lambda: read_excel(footer),
            match=r"summary rows.*'Total'.*file lines \[5\]",
        ),
        Case(
            "Excel with a duplicated column name",
            "refused",
            lambda: read_excel(dup),
            match="duplicated column names",
        ),
        Case(
            "Excel with dtype=",
            "refused",
            lambda: read_excel(plain, dtype=str),
            match=r"dtype= is not supported",
        ),
    ]


def spss_stata_cases(folder: Path) -> list[Case]:
    out = []
    five = likert(k=5, seed=9).astype(float)
    dk = with_code(five, 8, 0.04)
    labels = {
        1.0: "Strongly disagree",
        2.0: "Disagree",
        3.0: "Neither",
        4.0: "Agree",
        5.0: "Strongly agree",
        8.0: "Don't know",
    }
    declared = folder / "declared.sav"
    pyreadstat.write_sav(
        dk,
        declared,
        variable_value_labels=dict.fromkeys(ITEMS, labels),
        missing_ranges={c: [8.0] for c in ITEMS},
    )
    undeclared = folder / "undeclared.sav"
    pyreadstat.write_sav(dk, undeclared, variable_value_labels=dict.fromkeys(ITEMS, labels))
    masked = dk.mask(dk == 8)
    out += [
        Case(
            "SPSS, declared missing codes read as missing",
            "correct",
            lambda: read_spss(declared),
            same_frame(masked),
        ),
        Case(
            "SPSS, alpha with declared codes",
            "correct",
            lambda: cronbach_alpha(read_spss(declared)).alpha,
            lambda a: close(a, cronbach_alpha(masked).alpha, 1e-12),
        ),
        Case(
            "SPSS, alpha with declared codes kept (user_missing=True)",
            "correct",
            lambda: cronbach_alpha(read_spss(declared, user_missing=True)).alpha,
            lambda a: close(a, cronbach_alpha(masked).alpha, 1e-12),
        ),
        Case(
            "SPSS, 'Don't know' not declared missing",
            "refused",
            lambda: cronbach_alpha(read_spss(undeclared)).alpha,
            match=r"8 = \"Don't know\" in 'q1'.*missing=\[8\]",
        ),
        Case(
            "SPSS, 'Don't know' declared with missing=",
            "correct",
            lambda: cronbach_alpha(read_spss(undeclared), missing=[8]).alpha,
            lambda a: close(a, cronbach_alpha(masked).alpha, 1e-12),
        ),
        Case(
            "SPSS, 'Don't know' in score_items",
            "refused",
            lambda: score_items(read_spss(undeclared), {"s": ITEMS}),
            match="Don't know",
        ),
        Case(
            "SPSS, codebook from the file's metadata",
            "correct",
            lambda: (
                Codebook.from_metadata(read_spss(declared), scales={"s": ITEMS})
                .score(read_spss(declared, user_missing=True))
                .stats["alpha"]
                .iloc[0]
            ),
            lambda a: close(a, alpha_of(masked.fillna(masked.median()))),
        ),
        Case(
            "SPSS, 'Don't know' undeclared, from_metadata",
            "warned",
            lambda: Codebook.from_metadata(read_spss(undeclared)),
            match="read like missing",
        ),
    ]
    ends = {1.0: "Strongly disagree", 5.0: "Strongly agree"}
    end_path = folder / "ends.sav"
    pyreadstat.write_sav(five, end_path, variable_value_labels=dict.fromkeys(ITEMS, ends))
    cats = ["Strongly disagree", "2", "3", "4", "Strongly agree"]
    out += [
        Case(
            "SPSS, scale labelled at its ends, apply_value_labels",
            "correct",
            lambda: list(read_spss(end_path, apply_value_labels=True)["q1"].cat.categories),
            lambda c: c == cats,
        ),
        Case(
            "SPSS, scale labelled at its ends, codes in order",
            "correct",
            lambda: read_spss(end_path, apply_value_labels=True)["q3"].cat.codes + 1,
            lambda codes: np.array_equal(codes.to_numpy(), five["q3"].to_numpy()),
        ),
        Case(
            "SPSS, scale labelled at its ends, from_metadata + recode",
            "correct",
            lambda: Codebook.from_metadata(read_spss(end_path)).recode(read_spss(end_path)),
            same_frame(five),
        ),
        Case(
            "SPSS, labelled export recoded by from_metadata",
            "correct",
            lambda: Codebook.from_metadata(read_spss(end_path)).recode(
                read_spss(end_path, apply_value_labels=True)
            ),
            same_frame(five, ITEMS),
        ),
    ]
    dta = folder / "labels.dta"
    pyreadstat.write_dta(five, dta, variable_value_labels=dict.fromkeys(ITEMS, ends))
    gaps = five.copy()
    gaps.loc[[2, 9], "q1"] = np.nan
    gaps_path = folder / "gaps.dta"
    gaps.to_stata(gaps_path, write_index=False)
    out += [
        Case("Stata, labels at the ends", "correct", lambda: read_stata(dta), same_frame(five)),
        Case(
            "Stata, apply_value_labels",
            "correct",
            lambda: list(read_stata(dta, apply_value_labels=True)["q2"].cat.categories),
            lambda c: c == cats,
        ),
        Case("Stata, missing answers", "correct", lambda: read_survey(gaps_path), same_frame(gaps)),
        Case(
            "Stata, alpha with missing answers",
            "correct",
            lambda: cronbach_alpha(read_stata(gaps_path), impute="median").alpha,
            lambda a: close(a, alpha_of(gaps.fillna(gaps.median()))),
        ),
    ]
    broken = folder / "broken.sav"
    broken.write_bytes(b"not an spss file")
    out.append(
        Case("SPSS, not a .sav file", "refused", lambda: read_spss(broken), match="could not read")
    )
    return out


QUALTRICS = (
    "StartDate,ResponseId,Q1,Q2_1\n"
    'Start Date,Response ID,How old are you?,"Agree? - ""Maths"" is fun"\n'
    '"{""ImportId"":""startDate""}","{""ImportId"":""_recordId""}",'
    '"{""ImportId"":""QID1""}","{""ImportId"":""QID2_1""}"\n'
    "2024-03-01,R_1,15,4\n2024-03-01,R_2,,2\n2024-03-02,R_3,16,5\n"
)


def qualtrics_cases(folder: Path) -> list[Case]:
    want = pd.DataFrame({"Q1": [15.0, np.nan, 16.0], "Q2_1": [4, 2, 5]})
    std = folder / "qualtrics.csv"
    std.write_text(QUALTRICS)
    tsv = folder / "qualtrics.tsv"
    tsv.write_bytes(
        (
            "StartDate\tResponseId\tQ1\tQ2_1\n"
            'Start Date\tResponse ID\tHow old are you?\t"Agree? - ""Maths"" is fun"\n'
            '{"ImportId":"startDate"}\t{"ImportId":"_recordId"}\t{"ImportId":"QID1"}\t'
            '{"ImportId":"QID2_1"}\n'
            "2024-03-01\tR_1\t15\t4\n2024-03-01\tR_2\t\t2\n2024-03-02\tR_3\t16\t5\n"
        ).encode("utf-16")
    )
    legacy = folder / "legacy.csv"
    legacy.write_text(
        "V1,Q1,Q2_1\nResponseID,How old are you?,Agree?\nR_1,15,4\nR_2,,2\nR_3,16,5\n"
    )
    newer = folder / "newer.csv"
    newer.write_text(
        "StartDate,ResponseId,Q1,Q2_1\nStart Date,Response ID,Age,Agree?\n"
        "2024-03-01,R_1,15,4\n2024-03-01,R_2,,2\n2024-03-02,R_3,16,5\n"
    )
    xlsx = folder / "qualtrics.xlsx"
    rows = [r.split(",") for r in ["ResponseId,Q1,Q2_1", "Response ID,Age,Agree?"]]
    rows.append(['{"ImportId":"_recordId"}', '{"ImportId":"QID1"}', '{"ImportId":"QID2_1"}'])
    rows += [["R_1", 15, 4], ["R_2", "", 2], ["R_3", 16, 5]]
    pd.DataFrame(rows).to_excel(xlsx, header=False, index=False)
    footer = folder / "qualtrics_footer.csv"
    footer.write_text(QUALTRICS + "Mean,,15.5,3.67\n")

    def wording(df: pd.DataFrame) -> bool:
        return df.attrs["format"] == "qualtrics" and same_frame(want)(df)

    return [
        Case("Qualtrics CSV export", "correct", lambda: read_survey(std), wording),
        Case(
            "Qualtrics CSV, question text kept",
            "correct",
            lambda: read_qualtrics(std).attrs["column_labels"]["Q2_1"],
            lambda t: t == 'Agree? - "Maths" is fun',
        ),
        Case("Qualtrics UTF-16 TSV export", "correct", lambda: read_survey(tsv), wording),
        Case(
            "Qualtrics UTF-16 TSV via read_qualtrics",
            "correct",
            lambda: read_qualtrics(tsv),
            wording,
        ),
        Case(
            "Qualtrics legacy export (V1, ResponseID)",
            "correct",
            lambda: read_survey(legacy),
            wording,
        ),
        Case(
            "Qualtrics export without ImportId row", "correct", lambda: read_survey(newer), wording
        ),
        Case("Qualtrics .xlsx export", "correct", lambda: read_survey(xlsx), wording),
        Case(
            "Qualtrics export with a 'Mean' row",
            "refused",
            lambda: read_survey(footer),
            match=r"summary rows.*'Mean'.*file lines \[7\]",
        ),
        Case(
            "Qualtrics export with a 'Mean' row, footer='drop'",
            "correct",
            lambda: read_survey(footer, footer="drop"),
            wording,
        ),
    ]


def codebook_cases(folder: Path) -> list[Case]:
    text = "item,scale,reverse,labels,text\nq1,s,no,Pas d'accord|Neutre|D'accord,Élève\n"
    text += "q2,s,yes,Pas d'accord|Neutre|D'accord,Ça va\n"
    latin = folder / "codebook_latin1.csv"
    latin.write_bytes(text.encode("latin-1"))
    utf8 = folder / "codebook.csv"
    utf8.write_text(text, encoding="utf-8")
    toml_latin = folder / "codebook_latin1.toml"
    toml_latin.write_bytes('[items.q1]\ntext = "Élève"\n'.encode("latin-1"))

    def keys(cb: Codebook) -> bool:
        return cb.keys == {"s": ["q1", "-q2"]} and cb.items["q1"].text == "Élève"

    return [
        Case(
            "codebook CSV in Latin-1",
            "refused",
            lambda: read_codebook(latin),
            match=r"codebook .*byte 0xc9 on line 2.*encoding=",
        ),
        Case(
            "codebook CSV in Latin-1 with encoding=",
            "correct",
            lambda: Codebook.read(latin, encoding="latin-1"),
            keys,
        ),
        Case("codebook CSV in UTF-8", "correct", lambda: read_codebook(utf8), keys),
        Case(
            "codebook TOML in Latin-1",
            "refused",
            lambda: read_codebook(toml_latin),
            match="encoding=",
        ),
        Case(
            "codebook TOML in Latin-1 with encoding=",
            "correct",
            lambda: read_codebook(toml_latin, encoding="latin-1").items["q1"].text,
            lambda t: t == "Élève",
        ),
    ]


def replicate_cases(folder: Path) -> list[Case]:
    out = []
    df, cols = jk1(40)
    right = float(df["y"].std(ddof=1) / np.sqrt(40))
    path = folder / "jk1_replicates.csv"
    df.to_csv(path, index=False)
    out += [
        Case(
            "JK1 weights, method inferred",
            "correct",
            lambda: se_of(
                lsa_mean(replicate_design(read_csv(path), "W", r"JKW\d+"), "y", sd=False)
            ),
            lambda se: close(se, right),
        ),
        Case(
            "JK1 weights, method='jk1'",
            "correct",
            lambda: se_of(lsa_mean(replicate_design(df, "W", cols, method="jk1"), "y", sd=False)),
            lambda se: close(se, right),
        ),
        Case(
            "JK1 weights under method='fay'",
            "refused",
            lambda: replicate_design(df, "W", cols, method="fay"),
            match=r"method='fay' does not fit.*JK1",
        ),
        Case(
            "JK1 weights under method='brr'",
            "refused",
            lambda: replicate_design(df, "W", cols, method="brr"),
            match="does not fit",
        ),
        Case(
            "JK1, one replicate missing",
            "refused",
            lambda: replicate_design(df, "W", cols[:-1]),
            match="deleted in no replicate",
        ),
        Case(
            "JK1, one replicate twice",
            "refused",
            lambda: replicate_design(df.assign(extra=df["JKW4"]), "W", [*cols, "extra"]),
            match="deleted in several replicates",
        ),
        Case(
            "JK1, the final weight in the list",
            "refused",
            lambda: replicate_design(df, "W", [*cols, "W"]),
            match="equal the final weight",
        ),
    ]
    for k, method in ((0.0, "brr"), (0.5, "fay"), (0.3, "fay")):
        d, c = paired(12, 16, k, seed=int(10 * k))
        se = paired_se(d)
        fpath = folder / f"paired_{method}_{k}.csv"
        d.to_csv(fpath, index=False)
        out += [
            Case(
                f"{method} k={k} weights, method inferred",
                "correct",
                lambda p=fpath: se_of(
                    with_replicates(replicate_design(read_csv(p), "W", r"REPW\d+"), total)
                ),
                lambda s, se=se: close(s, se),
            ),
            Case(
                f"{method} k={k} weights, 81 columns with the final weight",
                "refused",
                lambda d=d, c=c: replicate_design(d, "W", [*c, "W"]),
                match=r"\['W'\] equal the final weight",
            ),
            Case(
                f"{method} k={k} weights, one column dropped",
                "refused",
                lambda d=d, c=c: replicate_design(d, "W", c[:-1]),
                match=r"15 columns.*multiple of 4",
            ),
            Case(
                f"{method} k={k} weights under method='jk1'",
                "refused",
                lambda d=d, c=c: replicate_design(d, "W", c, method="jk1"),
                match="does not fit",
            ),
        ]
        if method == "fay":
            out.append(
                Case(
                    f"fay k={k} weights with fay_k=0.8",
                    "refused",
                    lambda d=d, c=c: replicate_design(d, "W", c, method="fay", fay_k=0.8),
                    match=r"fay_k=0.8 does not fit",
                )
            )
    d, c = paired(12, 16, 0.5)
    factors = d.copy()
    factors[c] = factors[c].div(factors["W"], axis=0)
    factors["W"] = np.linspace(10, 40, len(factors))
    out.append(
        Case(
            "Fay factors (0.5/1.5) given instead of weights",
            "refused",
            lambda: replicate_design(factors, "W", c),
            match="hold replication factors",
        )
    )
    text = d.astype({"REPW3": object})
    text["REPW3"] = [f"{v:,.1f}".replace(".0", "") for v in d["REPW3"] * 1000]
    out.append(
        Case(
            "replicate weights read as text ('31,302')",
            "refused",
            lambda: replicate_design(text, "W", c),
            match=r"column 'REPW3' holds text.*thousands",
        )
    )
    wtext = d.astype({"W": object})
    wtext.loc[0, "W"] = "1,250"
    out.append(
        Case(
            "final weight read as text",
            "refused",
            lambda: replicate_design(wtext, "W", c),
            match=r"weight: column 'W' holds text \['1,250'\] in rows \[0\]",
        )
    )
    zone = np.repeat(np.arange(6), 2)
    jk2 = np.ones((12, 6))
    for z in range(6):
        jk2[zone == z, z] = [2.0, 0.0]
    small = pd.DataFrame({"y": np.arange(12.0), "W": 1.0})
    out += [
        Case(
            "JK2 weights without a method",
            "refused",
            lambda: replicate_design(small, "W", jk2),
            match=r"paired jackknife \(JK2\)",
        ),
        Case(
            "weights of no known method",
            "refused",
            lambda: replicate_design(
                small, "W", np.column_stack([small["W"] * 0.9] * 2 + [small["W"] * 1.3] * 2)
            ),
            match="cannot be told from the weights",
        ),
        Case(
            "replicates equal to the final weight, method='brr'",
            "warned",
            lambda: lsa_mean(replicate_design(small, "W", np.ones((12, 2)), method="brr"), "y"),
            match="SE is 0",
        ),
    ]
    strat = pd.DataFrame(
        {"y": np.arange(12.0), "W": 1.0, "psu": np.arange(12) // 2, "h": np.arange(12) // 6}
    )
    jkn = jackknife_design(strat, "W", "psu", "h")
    out += [
        Case(
            "JKn weights without a method",
            "refused",
            lambda: replicate_design(strat, "W", jkn.replicate_weights),
            match=r"stratified jackknife \(JKn\).*jackknife_design",
        ),
        Case(
            "taylor_mean with a 'Total' row",
            "refused",
            lambda: taylor_mean(
                pd.concat(
                    [
                        strat.assign(id=list(range(12))),
                        pd.DataFrame([{"id": "Total", **strat.sum()}]),
                    ]
                ),
                "y",
                "W",
            ),
            match="taylor_mean: the last rows look like summary rows",
        ),
    ]
    return out


def pisa_cases(pv_frame: pd.DataFrame) -> list[Case]:
    """PISA-like files: replicate prefix, ten plausible values, one missing."""
    nine = pv_frame.drop(columns="PV10MATH")
    des = pisa_design(pv_frame)
    right = float(
        np.mean(
            [np.average(pv_frame[f"PV{m}MATH"], weights=pv_frame["W_FSTUWT"]) for m in range(1, 11)]
        )
    )
    return [
        Case(
            "PISA-like, ten PVs",
            "correct",
            lambda: float(lsa_mean(des, "PV@MATH", sd=False)["estimate"].iloc[0]),
            lambda e: close(e, right),
        ),
        Case(
            "PISA-like, tenth PV missing",
            "refused",
            lambda: pisa_design(nine),
            match=r"numbered up to 9.*5 \(2000-2012\) or 10",
        ),
        Case(
            "PISA-like, tenth PV missing, n_pv=10",
            "refused",
            lambda: lsa_mean(pisa_design(nine, n_pv=10), "PV@MATH"),
            match=r"matches 9 plausible values.*n_pv=10",
        ),
        Case(
            "PISA-like, PV list of 9 without n_pv",
            "refused",
            lambda: lsa_mean(
                replicate_design(nine, "W_FSTUWT", r"W_FSTURWT\d+", fay_k=0.5),
                [f"PV{m}MATH" for m in range(1, 10)],
            ),
            match=r"9 plausible values .*not 5, 10 or 20",
        ),
        Case(
            "PISA-like, PV7 missing (a gap)",
            "refused",
            lambda: lsa_mean(pisa_design(pv_frame.drop(columns="PV7MATH"), n_pv=10), "PV@MATH"),
            match=r"\['PV7MATH'\] is missing",
        ),
        Case(
            "PISA-like, old replicate prefix",
            "refused",
            lambda: pisa_design(
                pv_frame.rename(columns=lambda c: c.replace("W_FSTURWT", "W_FSTR"))
            ),
            match="replicate_prefix='W_FSTR'",
        ),
    ]


def pisa_frame(n_schools: int = 40, per_school: int = 8, seed: int = 11) -> pd.DataFrame:
    """A PISA-like file: 80 Fay replicates (k = 0.5) over school pairs and ten PVs."""
    rng = np.random.default_rng(seed)
    school = np.repeat(np.arange(n_schools), per_school)
    w = rng.uniform(5, 50, n_schools)[school]
    h = hadamard(128)[:80, 1 : n_schools // 2 + 1]  # replicates x pseudo-strata, +-1
    sign = h[:, school // 2] * np.where(school % 2 == 0, 1, -1)[None, :]
    df = pd.DataFrame({"SCHOOLID": school, "W_FSTUWT": w})
    reps = pd.DataFrame(
        w[:, None] * np.where(sign > 0, 1.5, 0.5).T, columns=[f"W_FSTURWT{r}" for r in range(1, 81)]
    )
    theta = rng.normal(500, 90, len(df))
    pvs = pd.DataFrame({f"PV{m}MATH": theta + rng.normal(0, 30, len(df)) for m in range(1, 11)})
    return pd.concat([df, reps, pvs], axis=1)


def spaced_frame(seed: int = 0) -> pd.DataFrame:
    """Pupils in 20 schools, with spaces in the column names ("maths score", "school id")."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "maths score": rng.normal(size=120),
            "prior score": rng.normal(size=120),
            "school id": np.repeat(range(20), 6),
        }
    )
    df["maths score"] += 0.5 * df["prior score"] + np.repeat(rng.normal(size=20), 6)
    return df


def formula_cases() -> list[Case]:
    df = spaced_frame()
    plain = df.rename(columns=lambda c: c.replace(" ", "_"))
    right = mixed_model(plain, "maths_score ~ prior_score + (1 | school_id)").fixed
    return [
        Case(
            "formula with backticked column names",
            "correct",
            lambda: mixed_model(df, "`maths score` ~ `prior score` + (1 | `school id`)").fixed,
            lambda f: (
                np.allclose(f["estimate"], right["estimate"])
                and f["term"].tolist() == ["(Intercept)", "prior score"]
            ),
        ),
        Case(
            "formula with Q('...') column names",
            "correct",
            lambda: mixed_model(df, "Q('maths score') ~ Q('prior score')", group="school id").fixed,
            lambda f: np.allclose(f["estimate"], right["estimate"]),
        ),
        Case(
            "formula with an unquoted name with a space",
            "refused",
            lambda: mixed_model(df, "`maths score` ~ prior score + (1 | `school id`)"),
            match=r"column 'prior score' has a space.*backticks",
        ),
        Case(
            "formula with an unquoted outcome with a space",
            "refused",
            lambda: mixed_model(df, "maths score ~ 1 + (1 | `school id`)"),
            match=r"column 'maths score' has a space",
        ),
    ]


def build(folder: str | Path) -> list[Case]:
    """Write every input into ``folder`` and return the cases."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cases = [
        *reliability_cases(),
        *reversal_cases(),
        *csv_cases(folder),
        *excel_cases(folder),
        *spss_stata_cases(folder),
        *qualtrics_cases(folder),
        *codebook_cases(folder),
        *replicate_cases(folder),
        *pisa_cases(pisa_frame()),
        *formula_cases(),
    ]
    names = [c.name for c in cases]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise RuntimeError(f"battery: case names {dup} are used twice.")
    return cases


def main(argv: list[str]) -> int:
    """Build the battery in a folder, run every case and print the outcomes."""
    folder = Path(argv[1]) if len(argv) > 1 else Path(tempfile.mkdtemp(prefix="battery-"))
    outcomes = [classify(c) for c in build(folder)]
    for o in outcomes:
        flag = "ok  " if o.ok else "FAIL"
        print(f"{flag} {o.case.expect:8s} -> {o.got:9s} {o.case.name}")
        if not o.ok:
            print(f"      {o.message[:300]}")
    counts = pd.Series([o.got for o in outcomes]).value_counts().to_dict()
    bad = sum(not o.ok for o in outcomes)
    print(f"{len(outcomes)} cases in {folder}: {counts}; {bad} not as expected")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
