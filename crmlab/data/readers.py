"""Readers for real transaction exports, returned in the shop's shape with a cleaning report.

* CDNOW (Fader & Hardie): the master/sample text files, whitespace separated:
  customer id, date (yyyymmdd), number of CDs, dollar amount. Source:
  http://www.brucehardie.com/datasets/ (CDNOW_master.txt / CDNOW_sample.txt).
* UCI Online Retail II (Chen 2019): xlsx (one sheet per year) or csv with columns
  Invoice, StockCode, Description, Quantity, InvoiceDate, Price, Customer ID, Country.
  Cancellations have invoices starting with "C". Source:
  https://archive.ics.uci.edu/dataset/502/online+retail+ii

Neither reader downloads anything. ``shop.report`` accounts for every line of the file:
one row per reason a line was removed (in the order the rules are applied, each line
counted once), plus notes on lines that were kept but are unusual (a $0.00 purchase,
a postage charge), so nothing is dropped silently and nothing surprising is kept
silently. Its columns are ``step`` (the rule), ``rows`` and ``action`` ("read",
"skipped", "removed", "kept (note)" or "kept").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .simulate import Shop

CDNOW_SOURCE = "http://www.brucehardie.com/datasets/ (CDNOW_master.txt or CDNOW_sample.txt)"
RETAIL_SOURCE = "https://archive.ics.uci.edu/dataset/502/online+retail+ii (online_retail_II.xlsx)"
RETAIL_COLUMNS = ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID", "Country"]


def _require_file(path: str | Path, source: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p} not found. This reader never downloads; get the file from {source} "
                                f"and pass its path.")
    return p


#: Largest quantity per line a reader accepts: beyond it a number is an overflow or a typo
#: (a float this large no longer holds whole units exactly, and int64 would wrap it negative).
MAX_QUANTITY = 1_000_000_000
#: Largest customer id a reader accepts (whole numbers are exact in float64 up to 2**53).
MAX_ID = 2**53


def _bad_ids(ids: pd.Series) -> pd.Series:
    """Parsed ids that are not whole positive numbers ("1.5", "-5", "0", overflow)."""
    return ids.notna() & ~((ids > 0) & (ids <= MAX_ID) & (ids == np.floor(ids)))


def _quantity_rules(qty: pd.Series) -> list[tuple[str, pd.Series]]:
    """Rules for a parsed quantity: a fraction of a unit, an overflow (too large or inf)."""
    present = qty.notna()
    return [("fractional quantity (not a whole number of units; never truncated)",
             present & np.isfinite(qty) & (qty != np.floor(qty))),
            (f"quantity above {MAX_QUANTITY:,} or infinite (overflow in the export)",
             present & (qty.abs() > MAX_QUANTITY))]


def _apply_rules(rules: list[tuple[str, pd.Series]], index: pd.Index,
                 unknown_breaks: bool) -> tuple[pd.Series, list[tuple[str, int]]]:
    """Apply removal rules in order, each line counted once under the first rule it breaks.

    Returns the lines kept and (rule, lines removed) per rule; ``unknown_breaks``: a rule
    that cannot be evaluated on a line (NA) removes it.
    """
    keep = pd.Series(True, index=index)
    removed = []
    for label, bad in rules:
        hit = keep & bad.fillna(unknown_breaks)
        removed.append((label, int(hit.sum())))
        keep &= ~hit
    return keep, removed


def _report(total: int, removed: list[tuple[str, int]], kept: int,
            notes: list[tuple[str, int]] = (), skipped: list[tuple[str, int]] = ()) -> pd.DataFrame:
    """The cleaning report: lines read, skipped (not data), removed per rule, notes on
    kept lines, lines kept. ``rows read`` = sum of the removed rows + ``rows kept``."""
    rows = ([("rows read", total, "read")] + [(s, n, "skipped") for s, n in skipped]
            + [(s, n, "removed") for s, n in removed] + [(s, n, "kept (note)") for s, n in notes]
            + [("rows kept", kept, "kept")])
    out = pd.DataFrame(rows, columns=["step", "rows", "action"])
    out["step"] = out["step"].astype("str")
    out["action"] = out["action"].astype("str")
    out["rows"] = out["rows"].astype(np.int64)
    return out


def _as_shop(lines: pd.DataFrame, source: str, report: pd.DataFrame, extra_customers: pd.DataFrame | None = None,
             products: pd.DataFrame | None = None) -> Shop:
    """Build customers/orders/order_items from clean lines with order_key, customer_id, ts, product_id, qty, price."""
    lines = lines.sort_values(["ts", "order_key"], kind="stable").reset_index(drop=True)
    codes, uniques = pd.factorize(lines["order_key"], sort=False)
    lines = lines.assign(order_id=codes.astype(np.int64) + 1)
    if "line_amount" not in lines.columns:
        lines["line_amount"] = (lines["qty"] * lines["price"]).round(2)
    lines["line_no"] = lines.groupby("order_id").cumcount().astype(np.int64) + 1
    orders = lines.groupby("order_id", sort=True).agg(
        customer_id=("customer_id", "first"), order_ts=("ts", "first"), n_items=("qty", "sum"),
        amount=("line_amount", "sum"), source_id=("order_key", "first"),
    ).reset_index()
    orders["amount"] = orders["amount"].round(2)
    orders["source_id"] = orders["source_id"].astype("str")
    items = lines[["order_id", "line_no", "product_id", "qty", "price", "line_amount"]].rename(
        columns={"qty": "quantity", "price": "unit_price"})
    items["list_price"] = items["unit_price"]
    first = orders.groupby("customer_id")["order_ts"].min()
    customers = pd.DataFrame({"customer_id": first.index.astype(np.int64), "signup_ts": first.to_numpy()})
    if extra_customers is not None:
        customers = customers.merge(extra_customers, on="customer_id", how="left")
    tables = {"customers": customers, "orders": orders, "order_items": items}
    if products is not None:
        tables["products"] = products
    config = {"source": source, "start": str(orders["order_ts"].min().date()),
              "end": str(orders["order_ts"].max().date())}
    shop = Shop(tables=tables, truth={}, config=config)
    shop.report = report
    return shop


def _looks_like_header(row: pd.Series) -> bool:
    """True for a line of column names (no field is a number), e.g. the first line
    ``customer_id date number_of_cds dollar_value`` of the copy shipped with lifetimes."""
    values = row.dropna().astype("str")
    return len(values) > 0 and bool(pd.to_numeric(values, errors="coerce").isna().all()) \
        and bool(values.str.contains(r"[A-Za-z]", regex=True).all())


def read_cdnow(path: str | Path) -> Shop:
    """Read the CDNOW master or sample file into orders/order_items with a cleaning report.

    The file has one line per purchase: customer id, date (yyyymmdd), number of CDs and
    dollar amount (the sample file has the master id in front, which is dropped: its
    customers are numbered 1..2357 as in the published tables). Rules:

    * a header line of column names (some copies have one) is recognised and skipped
      (``action`` "skipped"), never counted as a malformed line;
    * removed, in order: malformed lines; a customer id that is not a whole positive
      number ("1.5", "-5": never rounded or truncated into another customer); a fractional
      quantity; a quantity above :data:`MAX_QUANTITY` or an infinite one (an overflow); an
      infinite amount (e.g. ``1e400``); non-positive quantity (no CD bought) and negative
      amount -- each line counted once, under the first rule it breaks;
    * **kept with a note**: purchases of $0.00 (free or fully discounted CDs). They are
      purchases: the BTYD literature counts them, and dropping them loses the customers
      whose only purchase was free (on the master file 80 lines; without them the reader
      returned fewer than the dataset's 23,570 customers). Their ``amount`` is 0;
    * several purchases of one customer on one day stay separate orders (noted; the CLV
      ``summarize`` merges same-period purchases itself, as the published tables do).

    Parameters
    ----------
    path : str or Path
        CDNOW_master.txt or CDNOW_sample.txt (never downloaded).

    Returns
    -------
    Shop
        ``customers``, ``orders``, ``order_items`` and a one-row ``products`` (CD), with the
        cleaning report in ``shop.report``.
    """
    p = _require_file(path, CDNOW_SOURCE)
    raw, skipped = _read_cdnow_raw(p)
    total = len(raw)
    cust = pd.to_numeric(raw["customer"], errors="coerce")
    date = pd.to_datetime(raw["date"], format="%Y%m%d", errors="coerce")
    qty = pd.to_numeric(raw["quantity"], errors="coerce")
    amt = pd.to_numeric(raw["amount"], errors="coerce")
    rules = [("malformed line", cust.isna() | date.isna() | qty.isna() | amt.isna()),
             ("customer id not a whole positive number (e.g. '1.5', '-5')", _bad_ids(cust)),
             *_quantity_rules(qty),
             ("infinite amount (overflow in the export)", np.isinf(amt)),
             ("non-positive quantity", qty <= 0),
             ("negative amount", amt < 0)]
    keep, removed = _apply_rules(rules, raw.index, unknown_breaks=False)
    zero_a = keep & (amt == 0)
    same_day = keep & pd.DataFrame({"c": cust, "d": date}).duplicated(keep="first")
    notes = [("zero amount ($0.00: free or fully discounted, kept as a purchase)", int(zero_a.sum())),
             ("second or later purchase of a customer on the same day (kept as its own order)",
              int(same_day.sum()))]
    products = pd.DataFrame({"product_id": [1], "name": pd.array(["CD"], dtype="str"),
                             "category": pd.Categorical(["music"])})
    report = _report(total, removed, int(keep.sum()), notes=notes, skipped=skipped)
    return _as_shop(_cdnow_lines(keep, cust, date, qty, amt), "cdnow", report, products=products)


def _cdnow_lines(keep: pd.Series, cust: pd.Series, date: pd.Series, qty: pd.Series, amt: pd.Series) -> pd.DataFrame:
    """The kept CDNOW lines in the readers' line shape (one product, the CD; the file's amount)."""
    lines = pd.DataFrame({
        "order_key": np.arange(len(keep))[keep.to_numpy()],
        "customer_id": cust[keep].astype(np.int64).to_numpy(),
        "ts": date[keep].astype("datetime64[ns]").to_numpy(),
        "product_id": np.ones(int(keep.sum()), dtype=np.int64),
        "qty": qty[keep].astype(np.int64).to_numpy(),
    })
    lines["price"] = (amt[keep].to_numpy() / lines["qty"].to_numpy()).round(4)
    lines["line_amount"] = amt[keep].to_numpy(dtype=float)  # the file's amount, not qty x rounded price
    return lines


def _read_cdnow_raw(p: Path) -> tuple[pd.DataFrame, list[tuple[str, int]]]:
    """The CDNOW file as text columns customer, date, quantity, amount (a header line
    skipped and reported, the sample file's leading master id dropped)."""
    raw = pd.read_csv(p, sep=r"\s+", header=None, dtype="str")
    if raw.shape[1] < 4:
        raise ValueError(f"read_cdnow(): {p} has {raw.shape[1]} columns; expected 4 "
                         f"(customer id, yyyymmdd date, quantity, amount). Is this the CDNOW text file?")
    skipped = []
    if len(raw) and _looks_like_header(raw.iloc[0]):
        raw = raw.iloc[1:].reset_index(drop=True)
        skipped.append(("header line (column names, not data)", 1))
    if raw.shape[1] > 4:
        # The sample file has the master id in front: keep the last four columns.
        raw = raw.iloc[:, -4:]
    raw.columns = ["customer", "date", "quantity", "amount"]
    return raw, skipped


def _read_retail_raw(p: Path) -> pd.DataFrame:
    if p.suffix.lower() in (".xlsx", ".xls"):
        sheets = pd.read_excel(p, sheet_name=None, dtype={"Invoice": "str", "StockCode": "str"})
        raw = pd.concat(sheets.values(), ignore_index=True)
    else:
        raw = pd.read_csv(p, dtype={"Invoice": "str", "StockCode": "str"}, encoding_errors="replace")
    # The 2010-2011 original file used InvoiceNo/UnitPrice/CustomerID names.
    raw = raw.rename(columns={"InvoiceNo": "Invoice", "UnitPrice": "Price", "CustomerID": "Customer ID"})
    missing = [c for c in RETAIL_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"read_online_retail(): table {p.name!r} lacks column(s) {missing}; expected the UCI "
                         f"Online Retail II columns {RETAIL_COLUMNS}.")
    return raw


#: Online Retail II stock codes that are not products but accounting entries, named in
#: the report. Matched case-insensitively on the whole code ("B" is bad debt, "M" a manual
#: adjustment, ...). Postage codes are in :data:`RETAIL_POSTAGE_CODES`.
RETAIL_ADJUSTMENT_CODES: dict[str, tuple[str, ...]] = {
    "bad debt adjustment (stock code B)": ("B",),
    "manual adjustment (stock code M)": ("M",),
    "discount (stock code D)": ("D",),
    "bank charges": ("BANK CHARGES",),
    "other fee or adjustment (AMAZONFEE, CRUK, ADJUST, samples, test codes)":
        ("AMAZONFEE", "CRUK", "ADJUST", "ADJUST2", "S", "TEST001", "TEST002"),
}
#: Postage and carriage codes: charges the customer paid, kept by default (with a note).
RETAIL_POSTAGE_CODES: tuple[str, ...] = ("POST", "DOT", "C2")


def read_online_retail(path: str | Path, *, keep_postage: bool = True) -> Shop:
    """Read UCI Online Retail II (xlsx or csv) into the shop's shape with a cleaning report.

    Rules, applied in order, each row counted once under the first rule it breaks:

    1. **adjustment rows, named** (they are bookkeeping, not sales, and most have no
       customer, so a generic rule would hide them as "missing customer"): bad-debt
       adjustments (stock code ``B``, invoices starting with ``A``), manual adjustments
       (``M``), discounts (``D``), bank charges, and other fees or adjustments
       (``AMAZONFEE``, ``CRUK`` commission, ``ADJUST``, samples ``S``, test codes);
    2. postage and carriage (``POST``, ``DOT``, ``C2``) when ``keep_postage=False``;
    3. missing customer, a customer id that is not a whole positive number, cancellation
       (invoice starting with "C"), a fractional quantity (never truncated: 1.7 units is
       not 1), a quantity above :data:`MAX_QUANTITY` or infinite (an overflow: int64 would
       wrap it to a negative number), non-positive quantity, non-positive or infinite price
       (``1e400``), unparseable date, exact duplicate line.

    **Kept with a note**: postage and carriage lines (``keep_postage=True``, the default):
    the customer paid them, so order amounts include them; pass ``keep_postage=False``
    for basket analysis, where "POSTAGE" would be the most frequent "product".

    Parameters
    ----------
    path : str or Path
        The UCI file, xlsx (one sheet per year) or csv (never downloaded).
    keep_postage : bool, default True
        Keep postage and carriage lines (with a note); False removes them.

    Returns
    -------
    Shop
        ``customers`` (with ``country``), ``orders``, ``order_items`` and ``products`` (one
        per stock code), with the cleaning report in ``shop.report``.
    """
    p = _require_file(path, RETAIL_SOURCE)
    raw = _read_retail_raw(p)
    parsed = _parse_retail(raw)
    invoice, qty, price, cust, ts = parsed
    postage = raw["StockCode"].astype("str").str.strip().str.upper().isin(RETAIL_POSTAGE_CODES)
    remaining, removed = _apply_rules(_retail_rules(raw, parsed, keep_postage), raw.index, unknown_breaks=True)
    notes = [("postage or carriage line (POST, DOT, C2; kept: the customer paid it)",
              int((remaining & postage).sum()))] if keep_postage else []
    kept = raw.loc[remaining]
    codes, products = _retail_products(kept, price[remaining])
    lines = pd.DataFrame({"order_key": invoice[remaining].to_numpy(),
                          "customer_id": cust[remaining].astype(np.int64).to_numpy(),
                          "ts": ts[remaining].astype("datetime64[ns]").to_numpy(),
                          "product_id": codes.astype(np.int64) + 1,
                          "qty": qty[remaining].astype(np.int64).to_numpy(),
                          "price": price[remaining].to_numpy(dtype=float)})
    return _as_shop(lines, "online_retail_ii", _report(len(raw), removed, int(remaining.sum()), notes=notes),
                    extra_customers=_retail_countries(kept, cust[remaining]), products=products)


def _retail_countries(kept: pd.DataFrame, cust: pd.Series) -> pd.DataFrame:
    """Each customer's country (that of their last kept line)."""
    country = kept.groupby(cust.astype(np.int64))["Country"].agg(lambda s: s.iloc[-1])
    return pd.DataFrame({"customer_id": country.index.astype(np.int64),
                         "country": pd.Categorical(country.to_numpy())})


def _parse_retail(raw: pd.DataFrame) -> tuple[pd.Series, ...]:
    """Invoice (text), quantity, price, customer id (numbers, NaN when unparseable) and date."""
    return (raw["Invoice"].astype("str"), pd.to_numeric(raw["Quantity"], errors="coerce"),
            pd.to_numeric(raw["Price"], errors="coerce"), pd.to_numeric(raw["Customer ID"], errors="coerce"),
            pd.to_datetime(raw["InvoiceDate"], errors="coerce"))


def _retail_rules(raw: pd.DataFrame, parsed: tuple[pd.Series, ...], keep_postage: bool) -> list[tuple[str, pd.Series]]:
    """The removal rules in order: adjustment rows by name (bad debt also by its "A"
    invoices), postage when it is not kept, then the generic rules and exact duplicates."""
    invoice, qty, price, cust, ts = parsed
    stock_upper = raw["StockCode"].astype("str").str.strip().str.upper()
    rules = []
    for label, codes in RETAIL_ADJUSTMENT_CODES.items():
        hit = stock_upper.isin(codes)
        if codes == ("B",):
            hit = hit | invoice.str.upper().str.startswith("A")
        rules.append((label, hit))
    if not keep_postage:
        rules.append(("postage or carriage (keep_postage=False)", stock_upper.isin(RETAIL_POSTAGE_CODES)))
    return rules + [
        ("missing customer", cust.isna()),
        ("customer id not a whole positive number", _bad_ids(cust)),
        ("cancellation (invoice starts with C)", invoice.str.upper().str.startswith("C")),
        *_quantity_rules(qty),
        ("non-positive quantity", ~(qty > 0)),
        ("non-positive price", ~(price > 0)),
        ("infinite price (overflow in the export)", np.isinf(price)),
        ("unparseable invoice date", ts.isna()),
        ("duplicate line", raw.duplicated(subset=RETAIL_COLUMNS, keep="first"))]


def _retail_products(kept: pd.DataFrame, price: pd.Series) -> tuple[np.ndarray, pd.DataFrame]:
    """Product index of each kept line and the ``products`` table: one row per stock code
    (sorted), its first description and median price."""
    stock = kept["StockCode"].astype("str")
    codes, uniques = pd.factorize(stock, sort=True)
    desc = kept.groupby(stock)["Description"].agg(lambda s: s.dropna().iloc[0] if s.notna().any() else "")
    med_price = price.groupby(stock).median()
    products = pd.DataFrame({
        "product_id": np.arange(1, len(uniques) + 1, dtype=np.int64),
        "stock_code": pd.array(np.asarray(uniques, dtype=str), dtype="str"),
        "name": pd.array(desc.reindex(uniques).fillna("").astype(str).to_numpy(), dtype="str"),
        "list_price": med_price.reindex(uniques).to_numpy(),
    })
    return codes, products


# --------------------------------------------------------------------------- a sample file

#: Countries of the sample file and their share of customers (the real file is about 90%
#: United Kingdom; the sample keeps several countries so per-country tables are not trivial).
_SAMPLE_COUNTRIES = {"United Kingdom": 0.80, "Germany": 0.05, "France": 0.05, "EIRE": 0.03,
                     "Netherlands": 0.02, "Spain": 0.02, "Belgium": 0.015, "Australia": 0.015}
_SAMPLE_THEMES = {  # product families bought together (colour variants of one item)
    "T-LIGHT HOLDER": ("WHITE", "RED", "PINK", "GREEN"), "LUNCH BAG": ("RED RETROSPOT", "BLACK SKULL",
                                                                       "PINK POLKADOT", "SUKI"),
    "JUMBO BAG": ("RED RETROSPOT", "VINTAGE PAISLEY", "STRAWBERRY", "BAROQUE"),
    "CAKE CASES": ("PACK OF 60 PINK", "PACK OF 72 RETROSPOT", "PACK OF 60 DINOSAUR"),
    "ALARM CLOCK BAKELIKE": ("RED", "GREEN", "IVORY", "PINK"),
    "PAPER CHAIN KIT": ("50'S CHRISTMAS", "VINTAGE CHRISTMAS"),
    "HOT WATER BOTTLE": ("KNITTED UNION FLAG", "SCOTTIE DOG", "CHOCOLATE"),
    "REGENCY TEACUP AND SAUCER": ("GREEN", "ROSES", "PINK"),
    "HEART OF WICKER": ("SMALL", "LARGE"), "DOOR MAT": ("UNION FLAG", "RED RETROSPOT", "FAIRY CAKE"),
    "SET OF 3 CAKE TINS": ("PANTRY DESIGN", "SKETCHBOOK"), "CHILDRENS CUTLERY": ("DOLLY GIRL", "SPACEBOY"),
}


def online_retail_sample(n_lines: int = 4000, seed: int = 0) -> pd.DataFrame:
    """A deterministic sample in the UCI Online Retail II format (for tests and the world sweep).

    Columns :data:`RETAIL_COLUMNS`, one row per invoice line, about ``n_lines`` rows from
    2009-12-01 to 2011-12-09 (the real file's span). Customers arrive over the first 18
    months and, while active, buy at their own Gamma-distributed rate, leaving after each
    purchase with a Beta-distributed probability (a BG/NBD world, so the CLV notebooks have
    something to fit). An invoice draws most of its lines from one product family (colour
    variants), so basket analysis finds pairs. What the reader must clean is there too:
    guest invoices without a customer id (about 15%), cancellations (invoices ``C...`` with
    negative quantities, about 2%), postage lines (``POST``) on invoices abroad, manual
    adjustments (``M``), a bad-debt adjustment (``A...``/``B``), zero prices and exact
    duplicate lines. Same ``seed``, same frame; nothing planted is returned (real data has
    no truth).

    Parameters
    ----------
    n_lines : int, default 4000
        About how many invoice lines (at least 100).
    seed : int, default 0
        The random seed.

    Returns
    -------
    pd.DataFrame
        The lines with columns ``RETAIL_COLUMNS`` (dates as text, as in the export), by date.
    """
    if n_lines < 100:
        raise ValueError(f"online_retail_sample(): n_lines={n_lines} is too few; ask for 100 or more")
    rng = np.random.default_rng(seed)
    products = [(f"{20700 + 37 * i + j:05d}", f"{colour} {item}")
                for i, (item, colours) in enumerate(_SAMPLE_THEMES.items()) for j, colour in enumerate(colours)]
    family = np.array([i for i, colours in enumerate(_SAMPLE_THEMES.values()) for _ in colours])
    price = np.round(rng.lognormal(1.0, 0.6, len(products)), 2) + 0.25
    catalogue = (products, family, price)
    start = pd.Timestamp("2009-12-01")
    countries = list(_SAMPLE_COUNTRIES)
    rows: list[tuple] = []
    invoice_no, cust_no = 489434, 0
    while len(rows) < n_lines:
        cust_no += 1
        invoice_no = _sample_customer(rng, rows, n_lines, invoice_no, float(12345 + 7 * cust_no), catalogue)
    rows.append(("A506401", "B", "Adjust bad debt", 1, pd.Timestamp("2010-04-29 13:36"), -53594.36, np.nan,
                 "United Kingdom"))
    rows.append((str(invoice_no + 1), "M", "Manual", 1, start + pd.Timedelta(days=300, hours=12), 0.5,
                 float(12345 + 7), countries[0]))
    out = pd.DataFrame(rows, columns=RETAIL_COLUMNS).sort_values("InvoiceDate", kind="stable")
    out["InvoiceDate"] = out["InvoiceDate"].dt.strftime("%Y-%m-%d %H:%M:%S")
    return out.reset_index(drop=True)


def _sample_invoice(rng: np.random.Generator, invoice_no: int, when: pd.Timestamp, fam: int, cid: float,
                    country: str, catalogue: tuple) -> list[tuple]:
    """The lines of one invoice: mostly colour variants of family ``fam``, postage abroad, and
    now and then an exact duplicate line (as in the real export)."""
    products, family, price = catalogue
    n = int(min(rng.geometric(0.3), 12))
    pool = np.flatnonzero(family == fam)
    picks = [int(rng.choice(pool)) if rng.random() < 0.75 else int(rng.integers(len(products)))
             for _ in range(n)]
    lines = [(str(invoice_no), products[p][0], products[p][1], int(rng.choice([1, 2, 3, 4, 6, 12, 24])),
              when, float(price[p]) if rng.random() > 0.005 else 0.0, cid, country)
             for p in dict.fromkeys(picks)]
    if country != "United Kingdom":
        lines.append((str(invoice_no), "POST", "POSTAGE", 1, when, 18.0, cid, country))
    if rng.random() < 0.005:
        lines.append(lines[0])  # an exact duplicate line, as in the real export
    return lines


def _sample_customer(rng: np.random.Generator, rows: list[tuple], n_lines: int, invoice_no: int, cid: float,
                     catalogue: tuple) -> int:
    """Append one customer's invoices to ``rows`` (a BG/NBD buyer: Gamma rate, Beta dropout
    after each purchase; guest invoices carry no id, a few are cancelled); returns the last
    invoice number used."""
    countries = list(_SAMPLE_COUNTRIES)
    start, span = pd.Timestamp("2009-12-01"), 738  # days to 2011-12-09
    country = countries[rng.choice(len(countries), p=list(_SAMPLE_COUNTRIES.values()))]
    rate, drop = rng.gamma(0.9, 1 / 60), rng.beta(1.0, 4.0)  # purchases a day; leave after each
    day = rng.uniform(0, 540)
    taste = rng.choice(len(_SAMPLE_THEMES), size=2, replace=False)
    while day < span and len(rows) < n_lines:
        guest = rng.random() < 0.15
        when = start + pd.Timedelta(days=int(day)) + pd.Timedelta(minutes=int(rng.integers(7 * 60, 19 * 60)))
        invoice_no += 1
        fam = taste[0] if rng.random() < 0.6 else (taste[1] if rng.random() < 0.5 else rng.integers(len(_SAMPLE_THEMES)))
        lines = _sample_invoice(rng, invoice_no, when, fam, np.nan if guest else cid, country, catalogue)
        rows += lines
        if rng.random() < 0.02 and not guest:  # cancelled a few days later
            back = when + pd.Timedelta(days=int(rng.integers(0, 5)), minutes=5)
            rows += [("C" + inv, code, desc, -q, back, pr, c, ctry)
                     for inv, code, desc, q, _, pr, c, ctry in lines[:2]]
        if guest:
            continue
        if rng.random() < drop:
            break
        day += rng.exponential(1 / rate)
    return invoice_no
