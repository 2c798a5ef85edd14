"""The dataset page's drift charts in a real browser: ``airflow api-server`` over a store
that real gate runs with a ``distribution`` section wrote, headless Chromium signed in.

Every bin of the reference is drawn (a bar pair per bin, the open-ended outer bins
included), every top category and "other", with the latest drift score and its
thresholds, in light and dark. Screenshots: test-artifacts/ui/drift-chart-light.png
and drift-chart-dark.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from server import ARTIFACTS, api_server, browser_home, chromium
from test_browser import WHITE, background, sign_in

from airflow_opsguard import profile, validate

START = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
COUNTRIES = ["US", "DE", "FR", "UK", "NL"]


def orders(rows: int, seed: int, shift: float, weights: list[float]) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    share = np.asarray(weights) / sum(weights)
    return pd.DataFrame(
        {
            "amount": rng.normal(80 + shift * 12, 12, rows).round(2),
            "country": rng.choice(COUNTRIES, size=rows, p=share),
        }
    )


def contract(reference: Path) -> dict[str, Any]:
    return {
        "dataset": "drift_orders",
        "schema": {
            "columns": [
                {"name": "amount", "type": "float"},
                {"name": "country", "type": "string"},
            ]
        },
        "distribution": {"reference": str(reference), "columns": ["amount", "country"]},
    }


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def drift_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home, env = browser_home(tmp_path_factory, "airflow-drift")
    reference = home / "reference.parquet"
    orders(5000, 1, 0.0, [40, 25, 20, 10, 5]).to_parquet(reference)
    store = f"sqlite:///{home / 'opsguard.db'}"  # where the api-server's plugin reads
    days = [(0.0, [40, 25, 20, 10, 5])] * 3 + [(0.8, [30, 25, 20, 0, 5])]
    for day, (shift, weights) in enumerate(days):
        data = orders(1500, 10 + day, shift, weights)
        if day == len(days) - 1:  # a new value in the latest run
            data.loc[data.index[:300], "country"] = "XX"
        validate(contract(reference), data, START + timedelta(days=day), store=store)
    bins = len(profile(str(reference), columns=["amount"]).columns[0].numeric.counts)  # type: ignore[union-attr]
    with api_server(home, env) as base:
        yield {"base": base, "bins": bins}


def test_drift_charts_show_every_bin_and_category_light_and_dark(
    drift_site: dict[str, Any], browser: Any
) -> None:
    base, bins = drift_site["base"], drift_site["bins"]
    assert bins == 20  # the default: 20 quantile bins, the outer two open-ended
    context = browser.new_context(viewport={"width": 1360, "height": 900}, color_scheme="light")
    page = context.new_page()
    sign_in(page, base, "/opsguard/datasets/drift_orders", "admin", "admin-pass")
    amount = page.locator('[data-panel="distribution(amount)"]')
    cells = amount.locator("svg.hist-columns g.hist-cell")
    assert cells.count() == bins
    assert amount.locator("svg.hist-columns rect.k-ref").count() == bins
    first, last = (
        cells.first.locator("title").text_content() or "",
        cells.last.locator("title").text_content() or "",
    )
    assert first.startswith("< ") and last.startswith(">= ")  # the open-ended outer bins
    assert "current" in last and "reference" in last
    edges = amount.locator("svg.hist-columns text.axis").all_text_contents()
    assert any(label.replace(".", "").isdigit() for label in edges)  # bin edges on the axis
    assert "%" in "".join(edges)  # and shares on the other
    score = amount.locator("p.score").inner_text()
    assert "wasserstein" in score and "warn from 0.15" in score and "fail from 0.3" in score
    assert amount.locator("p.score .badge").text_content() == "fail"

    country = page.locator('[data-panel="distribution(country)"]')
    rows = country.locator("svg.hist-rows g.hist-cell")
    assert rows.count() == len(COUNTRIES) + 1  # the reference's values and "other"
    names = country.locator("svg.hist-rows text.name").all_text_contents()
    assert names == ["US", "DE", "FR", "UK", "NL", "(other)"]
    other = rows.last.locator("title").text_content() or ""
    assert other.startswith("(other): reference 0%")  # XX is new: only in the latest run
    assert "js" in country.locator("p.score").inner_text()
    amount.scroll_into_view_if_needed()
    page.locator("div.grid").screenshot(path=str(ARTIFACTS / "drift-chart-light.png"))

    page.goto(f"{base}/")
    page.evaluate("localStorage.setItem('theme', 'dark')")
    page.goto(f"{base}/opsguard/datasets/drift_orders")
    assert page.locator("html").get_attribute("data-theme") == "dark"
    assert background(page) != WHITE
    assert page.locator("svg.hist-columns g.hist-cell").count() == bins
    page.locator("div.grid").screenshot(path=str(ARTIFACTS / "drift-chart-dark.png"))
    page.evaluate("localStorage.setItem('theme', 'light')")
    context.close()
