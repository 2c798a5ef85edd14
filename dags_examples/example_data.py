"""Example data for the demo and the example DAGs, generated relative to the clock so
that the fresh data is always fresh and the stale data always stale."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
COUNTRIES = ["US", "DE", "FR"]


def write_example_data(folder: Path = DATA, now: datetime | None = None) -> dict[str, Path]:
    """Write a healthy orders file and a broken feed; return their paths."""
    import numpy as np
    import pandas as pd

    now = now or datetime.now(UTC)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    rows = 5_000
    created = pd.Timestamp(now.replace(tzinfo=None)) - pd.to_timedelta(
        rng.integers(60, 6 * 3600, rows), unit="s"
    )
    orders = pd.DataFrame(
        {
            "order_id": np.arange(1, rows + 1),
            "amount": rng.gamma(2.0, 40.0, rows).round(2),
            "country": rng.choice(COUNTRIES, rows, p=[0.5, 0.3, 0.2]),
            "email": [f"customer{i}@example.com" for i in rng.integers(1, 2_000, rows)],
            "created_at": created,
        }
    )
    healthy = folder / "orders.parquet"
    orders.to_parquet(healthy, index=False)

    # The same feed after three upstream accidents: a column renamed (email -> mail),
    # a taxonomy change (new country codes), and a loader that stopped three days ago.
    feed = orders.copy().rename(columns={"email": "mail"})
    feed["created_at"] = feed["created_at"] - timedelta(days=3)
    feed.loc[feed.sample(frac=0.12, random_state=1).index, "country"] = "GB"
    feed.loc[feed.sample(n=25, random_state=2).index, "amount"] = None
    feed.loc[feed.sample(n=3, random_state=3).index, "order_id"] = 42
    broken = folder / "orders_feed.csv"
    feed.to_csv(broken, index=False)
    return {"orders": healthy, "orders_feed": broken}


def write_users(path: Path, *, day: str, broken: bool) -> Path:
    """A day of user records for the feature build. Broken: the upstream team renamed
    ``signup_date`` to ``signup_ts`` and started sending ``age`` as text."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(int(day.replace("-", "")))
    rows = 2_000
    users = pd.DataFrame(
        {
            "user_id": np.arange(1, rows + 1),
            "age": rng.integers(18, 90, rows),
            "country": rng.choice(COUNTRIES, rows),
            "signup_date": pd.Timestamp(day) - pd.to_timedelta(rng.integers(0, 900, rows), "D"),
        }
    )
    if broken:
        users = users.rename(columns={"signup_date": "signup_ts"})
        users["age"] = users["age"].astype(str)
    path.parent.mkdir(parents=True, exist_ok=True)
    users.to_parquet(path, index=False)
    return path


def write_sales(path: Path, *, until: datetime, broken: bool) -> Path:
    """Hourly sales per store up to ``until``. Broken: the loader silently stopped three
    days earlier, and the file still looks fine."""
    import numpy as np
    import pandas as pd

    end = pd.Timestamp(until.astimezone(UTC).replace(tzinfo=None))
    if broken:
        end -= pd.Timedelta(days=3)
    hours = pd.date_range(end=end, periods=24 * 14, freq="h")
    rng = np.random.default_rng(11)
    stores = ["berlin", "paris", "austin"]
    sales = pd.DataFrame(
        {
            "store": np.repeat(stores, len(hours)),
            "sold_at": np.tile(hours, len(stores)),
            "units": rng.poisson(20, len(hours) * len(stores)),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    sales.to_parquet(path, index=False)
    return path


CATEGORIES = ["electronics", "books", "home", "toys", "garden"]


def write_interactions(path: Path, *, seed: int, broken: bool) -> Path:
    """User-item interactions with the item's category. Broken: the catalogue team
    renamed 'electronics' to 'tech' and folded 'garden' into 'other'."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    rows = 20_000
    events = pd.DataFrame(
        {
            "user_id": rng.integers(1, 5_000, rows),
            "item_id": rng.integers(1, 800, rows),
            "category": rng.choice(CATEGORIES, rows, p=[0.3, 0.25, 0.2, 0.15, 0.1]),
        }
    )
    if broken:
        events["category"] = events["category"].replace({"electronics": "tech", "garden": "other"})
    path.parent.mkdir(parents=True, exist_ok=True)
    events.to_parquet(path, index=False)
    return path


def write_churn_features(path: Path, *, seed: int, broken: bool) -> Path:
    """Features of the churn model. Broken: billing started to send monthly spend in
    another currency, so every value moved up by a fifth."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    rows = 20_000
    features = pd.DataFrame(
        {
            "customer_id": np.arange(rows),
            "tenure_months": rng.integers(1, 120, rows),
            "monthly_spend": rng.gamma(4.0, 12.5, rows).round(2),
            "support_calls": rng.poisson(1.2, rows),
        }
    )
    if broken:
        features["monthly_spend"] = (features["monthly_spend"] * 1.2).round(2)
    path.parent.mkdir(parents=True, exist_ok=True)
    features.to_parquet(path, index=False)
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=DATA)
    for name, path in write_example_data(parser.parse_args().out).items():
        print(f"{name}: {path}")
