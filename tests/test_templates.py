"""The HTML reports come from Jinja2 templates (package data) with one shared stylesheet."""

import re
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
from jinja2 import UndefinedError

from toolkit.robustness.report import _html
from toolkit.templates import render

TEMPLATES = resources.files("toolkit") / "templates"
CSS = (TEMPLATES / "report.css").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["validation.html.j2", "robustness.html.j2"])
def test_every_report_extends_the_base_page(name):
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    assert text.startswith('{% extends "base.html.j2" %}')
    assert "<style" not in text and "<html" not in text  # the base page has them, once


def test_the_base_page_inlines_the_one_stylesheet():
    page = render("base.html.j2", title="t")
    assert page.startswith("<!doctype html>")
    (style,) = re.findall(r"<style>\n(.*?)</style>", page, re.DOTALL)
    assert style.strip() == CSS.strip()


def test_a_missing_value_is_an_error_not_an_empty_page():
    with pytest.raises(UndefinedError):
        render("validation.html.j2", title="t")


def _info(title: str, claim: str) -> dict:
    return {
        "title": title,
        "source": "a<b>.toml",
        "indices": "spearman",
        "design": "lhs",
        "n": 4,
        "points": 4,
        "parameters": ["x"],
        "arms": ["a", "b"],
        "classrooms": 2,
        "independent_points": 4,
        "provenance": "rb | a<b>.toml | commit abc",
        "ranges": [{"name": "x", "low": 0.0, "high": 1.0, "scale": "linear", "integer": False}],
        "claims": [
            {
                "claim": claim,
                "text": "b - a > 0 on m",
                "share": 0.5,
                "share_low": 0.25,
                "share_high": 0.75,
                "decided_true": 0.5,
                "decided_false": 0.25,
                "undecided": 0.25,
                "drivers": "x (0.90)",
                "region": "fails when x < 0.5",
            }
        ],
    }


def test_report_text_is_escaped_and_pandas_tables_are_html(tmp_path: Path):
    claims = pd.DataFrame(
        {"claim": ["<i>mine</i>"], "share": [0.5], "driver_1": ["x"], "driver_2": [None]}
    )
    page = _html(_info("<script>alert(1)</script>", "<i>mine</i>"), [], tmp_path, {}, claims)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<h2>&lt;i&gt;mine&lt;/i&gt;</h2>" in page
    assert "<code>b - a &gt; 0 on m</code> holds in 50% of the plausible space" in page
    # the claims and ranges tables are pandas' HTML, inserted as is (their cells escaped by pandas)
    assert page.count('<table border="1" class="dataframe">') == 2
    assert "<td>&lt;i&gt;mine&lt;/i&gt;</td>" in page and "<td>0.500</td>" in page
    assert page.count("<style>") == 1 and "table.dataframe td" in page
