"""Property-based tests (Hypothesis) of the survey helpers: issue 19.

* Readers and codebooks: a random questionnaire (items on a random scale, random value labels,
  a declared missing code, missing answers) written as SPSS, Stata, CSV (random separator and
  encoding), Excel and Qualtrics, read back and compared; codebooks through TOML and back.
* Scale scores: alpha and scale scores do not change when the items are permuted or shifted by a
  constant, reversing an item twice changes nothing, and a constant item is refused.
* Replicate designs with a closed-form SE: the delete-one jackknife of a mean with unit weights
  (s / sqrt(n)) and BRR or Fay replicates of a total over strata of two PSUs
  (sqrt(sum_h (y_h1 - y_h2)^2)).
"""

import tomllib
import warnings

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.linalg import hadamard

from toolkit.survey import (
    Codebook,
    CodebookItem,
    ResponseSet,
    cronbach_alpha,
    lsa_mean,
    read_csv,
    read_excel,
    read_qualtrics,
    read_spss,
    read_stata,
    replicate_design,
    score_items,
    with_replicates,
)

FILES = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FAST = settings(max_examples=40, deadline=None)

#: Label text: letters (accented too), spaces and punctuation a questionnaire uses; starts with a
#: letter so that it is never a number, an empty cell or a summary word.
WORD = st.text(
    alphabet=st.sampled_from(
        list("abcdefghijklmnopqrstuvwxyzéèàüöçñ ABCDEFGHIJKLMNOPQRSTUVWXYZ'-")
    ),
    min_size=2,
    max_size=12,
).map(lambda s: "Q" + " ".join(s.split()))


@st.composite
def questionnaires(draw):
    """A frame of k items on a 1..points scale with labels, a missing code and empty answers."""
    n = draw(st.integers(4, 25))
    k = draw(st.integers(1, 4))
    points = draw(st.integers(2, 7))
    labels = draw(st.lists(WORD, min_size=points, max_size=points, unique_by=str.casefold))
    code = draw(st.sampled_from([-99.0, -9.0, 8.0, 9.0, 99.0, 999.0]))
    assume(not 1 <= code <= points)
    cells = st.one_of(st.integers(1, points).map(float), st.just(np.nan), st.just(code))
    data = {f"q{j}": draw(st.lists(cells, min_size=n, max_size=n)) for j in range(1, k + 1)}
    df = pd.DataFrame({"id": np.arange(1, n + 1, dtype=float), **data})
    value_labels = {i: float(i) for i in range(1, points + 1)}
    return df, {float(i): lab for i, lab in zip(value_labels, labels, strict=True)}, code


def _items(df):
    return [c for c in df.columns if c.startswith("q")]


def _recode(cb, frame, expected, **kwargs):
    """``cb.recode(frame)``, checking that it names exactly the columns with no valid answer."""
    items = _items(expected)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = cb.recode(frame, **kwargs)
    said = [str(w.message) for w in caught]
    named = [c for c in items if any(f"'{c}' has no valid answer" in m for m in said)]
    assert named == [c for c in items if expected[c].isna().all()]
    return out


@FILES
@given(q=questionnaires())
def test_spss_round_trip_with_labels_and_missing_codes(tmp_path_factory, q):
    df, labels, code = q
    path = tmp_path_factory.mktemp("sav") / "q.sav"
    items = _items(df)
    pyreadstat.write_sav(
        df,
        path,
        variable_value_labels={c: {**labels, code: "Don't know"} for c in items},
        missing_ranges={c: [code] for c in items},
    )
    back = read_spss(path)
    expected = df[items].mask(df[items] == code)
    pd.testing.assert_frame_equal(back[items], expected, check_dtype=False)
    assert back.attrs["missing_values"][items[0]] == [(code, code)]
    kept = read_spss(path, user_missing=True)
    pd.testing.assert_frame_equal(kept[items], df[items], check_dtype=False)
    cb = Codebook.from_metadata(kept)
    rec = _recode(cb, kept, expected, reverse=False)
    pd.testing.assert_frame_equal(rec[items], expected, check_dtype=False)
    labelled = read_spss(path, apply_value_labels=True)
    cats = [c for c in labelled[items[0]].cat.categories if c != "Don't know"]
    assert cats == list(labels.values())  # in code order, the missing code's label aside
    again = _recode(cb, labelled, expected, reverse=False)
    pd.testing.assert_frame_equal(again[items], expected, check_dtype=False)


@FILES
@given(q=questionnaires())
def test_stata_round_trip_with_labels(tmp_path_factory, q):
    df, labels, code = q
    items = _items(df)
    clean = df.copy()
    clean[items] = clean[items].mask(clean[items] == code)
    path = tmp_path_factory.mktemp("dta") / "q.dta"
    pyreadstat.write_dta(clean, path, variable_value_labels=dict.fromkeys(items, labels))
    back = read_stata(path)
    pd.testing.assert_frame_equal(back[items], clean[items], check_dtype=False)
    assert back.attrs["value_labels"][items[0]] == labels


ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"]


@FILES
@given(
    q=questionnaires(),
    sep=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(ENCODINGS),
    as_text=st.booleans(),
)
def test_csv_round_trip_in_any_separator_and_encoding(tmp_path_factory, q, sep, encoding, as_text):
    df, labels, code = q
    items = _items(df)
    clean = df.copy()
    clean[items] = clean[items].mask(clean[items] == code)
    frame = clean.copy()
    if as_text:  # a "choice text" export: the labels themselves
        for c in items:
            frame[c] = clean[c].map(labels)
    path = tmp_path_factory.mktemp("csv") / "q.csv"
    path.write_bytes(frame.to_csv(index=False, sep=sep).encode(encoding))
    read_enc = {"utf-16": "utf-8-sig", "cp1252": "cp1252", "latin-1": "latin-1"}.get(
        encoding, "utf-8-sig"
    )  # UTF-16 is found from its byte-order mark
    back = read_csv(path, encoding=read_enc)
    assert back.attrs["delimiter"] == sep
    if as_text:
        for c in items:
            assert back[c].tolist() == frame[c].where(frame[c].notna(), np.nan).tolist() or (
                back[c].isna().equals(frame[c].isna())
                and (back[c].dropna() == frame[c].dropna()).all()
            )
        cb = Codebook(
            [CodebookItem(c, responses=ResponseSet("r", list(labels.values()))) for c in items]
        )
        rec = _recode(cb, back, clean[items])
        pd.testing.assert_frame_equal(rec[items], clean[items], check_dtype=False)
    else:
        pd.testing.assert_frame_equal(back[items], clean[items], check_dtype=False)


@FILES
@given(q=questionnaires(), wording=st.lists(WORD, min_size=5, max_size=5))
def test_qualtrics_and_excel_round_trips(tmp_path_factory, q, wording):
    df, _, code = q
    items = _items(df)
    clean = df.copy()
    clean[items] = clean[items].mask(clean[items] == code)
    folder = tmp_path_factory.mktemp("qx")
    texts = dict(zip(clean.columns, wording, strict=False))
    rows = [
        list(clean.columns),
        [texts.get(c, "") for c in clean.columns],
        [f'{{"ImportId":"QID_{c}"}}' for c in clean.columns],
    ]
    body = clean.astype(object).where(clean.notna(), "").to_numpy().tolist()
    csv_path = folder / "export.csv"
    pd.DataFrame(rows + body).to_csv(csv_path, index=False, header=False)
    back = read_qualtrics(csv_path)
    pd.testing.assert_frame_equal(back[items], clean[items], check_dtype=False)
    assert back.attrs["column_labels"] == {c: t for c, t in texts.items() if t}
    xlsx = folder / "export.xlsx"
    clean.to_excel(xlsx, index=False)
    pd.testing.assert_frame_equal(read_excel(xlsx)[items], clean[items], check_dtype=False)


@FAST
@given(
    labels=st.lists(WORD, min_size=2, max_size=7, unique_by=str.casefold),
    missing=st.lists(st.sampled_from([-99, -9, 97, 98, 99, "Refused"]), max_size=3, unique=True),
    reverse=st.lists(st.booleans(), min_size=1, max_size=4),
)
def test_codebook_toml_round_trip(labels, missing, reverse):
    rs = ResponseSet("set", labels, missing=missing)
    cb = Codebook(
        [CodebookItem(f"i{j}", scale="s", reverse=r, responses=rs) for j, r in enumerate(reverse)],
        missing=[-1],
    )
    again = Codebook.from_dict(tomllib.loads(cb.to_toml()))
    assert again.keys == cb.keys
    for name, item in cb.items.items():
        other = again.items[name]
        assert other.responses.labels == item.responses.labels
        assert other.responses.values == item.responses.values
        assert list(other.responses.missing) == list(item.responses.missing)
        assert other.bounds == item.bounds


# ------------------------------------------------------------------ scale scores


@st.composite
def scales(draw):
    """Items on a 1..points scale that share a latent trait (alpha well above 0)."""
    seed = draw(st.integers(0, 2**32 - 1))
    k = draw(st.integers(2, 6))
    n = draw(st.integers(30, 200))
    points = draw(st.integers(4, 7))
    rng = np.random.default_rng(seed)
    lat = rng.normal(size=n)
    x = np.clip(
        np.round((points + 1) / 2 + 1.3 * lat[:, None] + rng.normal(size=(n, k))), 1, points
    )
    df = pd.DataFrame(x, columns=[f"i{j}" for j in range(k)])
    assume((df.std() > 0).all() and all(df[c].nunique() == points for c in df))
    return df, points, rng


@FAST
@given(s=scales())
def test_alpha_does_not_depend_on_item_order_or_a_shift(s):
    df, points, rng = s
    base = cronbach_alpha(df, min=1, max=points)
    order = list(rng.permutation(df.columns))
    perm = cronbach_alpha(df[order], min=1, max=points)
    assert perm.alpha == pytest.approx(base.alpha, abs=1e-12)
    np.testing.assert_allclose(perm.scores, base.scores, atol=1e-12)
    shifted = cronbach_alpha(df + 10, min=11, max=points + 10)
    assert shifted.alpha == pytest.approx(base.alpha, abs=1e-12)
    np.testing.assert_allclose(shifted.scores, base.scores + 10, atol=1e-12)
    keys = {"s": list(df.columns)}
    a = score_items(df, keys, min=1, max=points)
    b = score_items(df[order], keys, min=1, max=points)
    assert a.stats["alpha"].iloc[0] == pytest.approx(b.stats["alpha"].iloc[0], abs=1e-12)
    np.testing.assert_allclose(a.scores, b.scores, atol=1e-12)


@FAST
@given(s=scales(), data=st.data())
def test_reversing_twice_changes_nothing(s, data):
    df, points, _ = s
    item = data.draw(st.sampled_from(list(df.columns)))
    once = df.assign(**{item: points + 1 - df[item]})
    twice = once.assign(**{item: points + 1 - once[item]})
    pd.testing.assert_frame_equal(twice, df)
    keyed = ["-" + c if c == item else c for c in df.columns]
    base = cronbach_alpha(df, min=1, max=points)
    back = cronbach_alpha(once, keyed, min=1, max=points)  # reversed in the data and by the key
    assert back.alpha == pytest.approx(base.alpha, abs=1e-12)
    np.testing.assert_allclose(back.scores, base.scores, atol=1e-12)
    # through a codebook: recode reverses once and refuses a second reversal
    cb = Codebook([CodebookItem(c, scale="s", min=1, max=points, reverse=c == item) for c in df])
    rec = cb.recode(once)
    assert cronbach_alpha(rec, list(df.columns)).alpha == pytest.approx(base.alpha, abs=1e-12)
    with pytest.raises(ValueError, match="already reverse-keyed"):
        cronbach_alpha(rec, cb.keys["s"])


@FAST
@given(s=scales(), value=st.integers(1, 7))
def test_a_constant_item_is_refused_not_scored(s, value):
    df, points, _ = s
    assume(value <= points)
    with pytest.raises(ValueError, match=r"\['const'\] have no variance"):
        cronbach_alpha(df.assign(const=float(value)), min=1, max=points)
    with pytest.raises(ValueError, match=r"\['const'\] have no variance"):
        score_items(df.assign(const=float(value)), {"s": [*df.columns, "const"]}, min=1, max=points)


# ------------------------------------------------------------------ replicate designs


@FAST
@given(
    y=st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=3, max_size=40),
    mse=st.booleans(),
)
def test_jackknife_se_of_a_mean_is_s_over_root_n(y, mse):
    y = np.asarray(y)
    assume(np.std(y) > 1e-6 * (1 + np.abs(y).max()))
    n = y.size
    df = pd.DataFrame({"y": y, "w": 1.0})
    des = replicate_design(df, "w", n / (n - 1) * (1 - np.eye(n)), mse=mse)
    assert des.method == "jk1"
    res = lsa_mean(des, "y", sd=False).iloc[0]
    assert res["estimate"] == pytest.approx(y.mean(), rel=1e-9, abs=1e-9)
    assert res["se"] == pytest.approx(y.std(ddof=1) / np.sqrt(n), rel=1e-7)


@FAST
@given(
    log_r=st.integers(2, 5),
    data=st.data(),
    k=st.sampled_from([0.0, 0.3, 0.5, 0.7]),
    weight=st.floats(0.5, 1000),
)
def test_brr_and_fay_se_of_a_total_is_closed_form(log_r, data, k, weight):
    r = 2**log_r
    n_strata = data.draw(st.integers(1, r - 1))
    y = np.asarray(
        data.draw(st.lists(st.floats(-100, 100), min_size=2 * n_strata, max_size=2 * n_strata))
    )
    h = hadamard(r)[:, 1 : n_strata + 1]
    stratum = np.repeat(np.arange(n_strata), 2)
    sign = h[:, stratum] * np.tile([1, -1], n_strata)[None, :]
    reps = weight * np.where(sign > 0, 2 - k, k).T
    df = pd.DataFrame({"y": y, "w": weight})
    des = replicate_design(df, "w", reps)
    assert des.method == ("brr" if k == 0 else "fay")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # SE 0 when y_h1 = y_h2 in every stratum
        res = with_replicates(des, lambda d, w: float(np.sum(w * d["y"].to_numpy()))).iloc[0]
    d = y.reshape(-1, 2)
    expected = weight * np.sqrt(((d[:, 0] - d[:, 1]) ** 2).sum())
    assert res["se"] == pytest.approx(expected, rel=1e-9, abs=1e-9 * weight * (1 + np.abs(y).sum()))
