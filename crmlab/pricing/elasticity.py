"""Price elasticity (價格彈性) estimated from the shop's ``price_history``.

:func:`pricing_panel` joins the price history to the product catalogue;
:class:`ElasticityModel` fits log-log OLS or Poisson regression with product and time fixed
effects and reports the elasticity with its confidence interval.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from crmlab._checks import reads
from crmlab.base import Estimator
from crmlab.pricing._validation import _check_prices


@reads(price_history="", products="")
def pricing_panel(price_history: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """The shop's ``price_history`` joined with each product's category, list price and cost.

    Adds ``log_price``, ``rel_price`` (price / list price), ``week`` and ``month`` (period
    start dates) so fixed effects and time controls can be named by column. One row per
    product-day, as in ``price_history``.

    Parameters
    ----------
    price_history : pd.DataFrame
        The shop's ``price_history`` table (product_id, date, price, units).
    products : pd.DataFrame
        The shop's ``products`` table (product_id, category, list_price, unit_cost).

    Returns
    -------
    pd.DataFrame
        One row per product-day with the columns above added.
    """
    need_ph = ["date", "product_id", "price", "units"]
    need_pr = ["product_id", "category", "list_price", "unit_cost"]
    for table, frame, need in (("price_history", price_history, need_ph),
                               ("products", products, need_pr)):
        missing = [c for c in need if c not in frame.columns]
        if missing:
            raise ValueError(
                f"pricing_panel: table '{table}' lacks column(s) {missing}; pass the shop's "
                f"{table} table (see crmlab/data/schema.py)"
            )
    _check_prices(price_history["price"].to_numpy(dtype=float),
                  where="pricing_panel: table 'price_history', column 'price'")
    unknown = ~price_history["product_id"].isin(products["product_id"])
    if unknown.any():
        raise ValueError(
            f"pricing_panel: table 'price_history' has {int(unknown.sum())} rows whose "
            "product_id is not in 'products'; pass the products table of the same shop"
        )
    out = price_history.merge(products[need_pr], on="product_id", how="left", validate="m:1")
    out["log_price"] = np.log(out["price"].to_numpy(dtype=float))
    out["rel_price"] = out["price"] / out["list_price"]
    out["week"] = out["date"].dt.to_period("W").dt.start_time
    out["month"] = out["date"].dt.to_period("M").dt.start_time
    return out


def _codes(frame: pd.DataFrame, spec: str | tuple[str, ...]) -> np.ndarray:
    """Integer level codes of a fixed effect (one column, or the interaction of several)."""
    cols = [spec] if isinstance(spec, str) else list(spec)
    if len(cols) == 1:
        return pd.factorize(frame[cols[0]], sort=True)[0]
    return frame.groupby(cols, observed=True, sort=True).ngroup().to_numpy()


def _demean(matrix: np.ndarray, codes: list[np.ndarray], weights: np.ndarray,
            tol: float = 1e-10, max_iter: int = 10_000) -> np.ndarray:
    """Weighted within transformation: remove all fixed effects by alternating projections.

    Each sweep subtracts the weighted group means of every fixed effect in turn (the method
    of alternating projections; Gaure 2013). The result is the residual of a weighted
    regression of each column on all the fixed-effect dummies (Frisch--Waugh--Lovell).
    """
    out = np.array(np.asarray(matrix, dtype=float).T, order="C", copy=True)  # one row per column
    sums = [np.bincount(c, weights=weights) for c in codes]
    scale = 1.0 + np.abs(out).max()
    for _ in range(max_iter):
        change = 0.0
        for c, sw in zip(codes, sums, strict=True):
            for col in out:
                means = np.bincount(c, weights=weights * col, minlength=sw.size) / sw
                col -= means[c]
                change = max(change, float(np.abs(means).max()))
        if len(codes) == 1 or change < tol * scale:
            return out.T
    raise RuntimeError("fixed effects did not converge; check for disconnected groups")


class ElasticityModel(Estimator):
    """Price elasticity of demand from a product-day panel, with fixed effects.

    ``method="poisson"`` (default): Poisson regression ``E[units] = exp(FE + e_g * log price)``
    fitted by iteratively reweighted least squares with the fixed effects absorbed (the
    PPML-HDFE approach; no statsmodels needed). Zero-sales days are kept, which is what makes
    it the right tool for sparse daily sales. With product and category x day fixed effects
    it is the conditional logit of which product a category's buyers choose -- exactly the
    shop's choice model, so it recovers the planted elasticity.

    ``method="ols"``: least squares of ``log(units)`` on ``log(price)``. The log of zero is
    undefined, so zero-sales rows are dropped (and counted in ``dropped_``); on sparse data this
    selection biases the slope -- the notebook shows it.

    ``by``: a column whose groups each get their own elasticity (e.g. ``"category"``), or
    ``None`` for one pooled elasticity. ``fixed_effects``: column names, or tuples of columns
    for interactions, e.g. ``("product_id", ("category", "date"))``; an empty tuple fits a
    naive pooled regression with only an intercept (the endogeneity trap: sitewide sale days
    are both low-price and high-demand days).

    Fitted attributes: ``elasticities_`` (one row per group: ``group``, ``elasticity``,
    ``std_error`` (heteroskedasticity-robust), ``ci_low``, ``ci_high``, ``n_obs``, ``units``),
    ``coef_``, ``n_obs_``, ``dropped_`` (rows removed and why), ``n_iter_``.

    Parameters
    ----------
    method : {"poisson", "ols"}, default "poisson"
        The regression (see above).
    by : str or None, default "category"
        Column whose groups each get their own elasticity; ``None`` pools all rows.
    fixed_effects : sequence of str or tuple of str, default ("product_id", "date")
        Fixed effects to absorb; a tuple of columns is their interaction.
    price_col, units_col : str, default "price", "units"
        Columns of the price (NT$, > 0) and of the units sold (>= 0).
    max_iter : int, default 100
        Most reweighting iterations of the Poisson fit.
    tol : float, default 1e-9
        Convergence tolerance of the Poisson fit.

    Attributes
    ----------
    elasticities_ : pd.DataFrame
        One row per group with the elasticity, its robust standard error and 95% interval.
    coef_ : np.ndarray
        The slopes on log price, one per group.
    n_obs_, dropped_, n_iter_ :
        Rows used, rows removed (and why), iterations taken.
    """

    _fit_call = "fit(frame)"

    def __init__(self, method: str = "poisson", by: str | None = "category",
                 fixed_effects: Sequence[str | tuple[str, ...]] = ("product_id", "date"),
                 price_col: str = "price", units_col: str = "units",
                 max_iter: int = 100, tol: float = 1e-9) -> None:
        self.method = method
        self.by = by
        self.fixed_effects = fixed_effects
        self.price_col = price_col
        self.units_col = units_col
        self.max_iter = max_iter
        self.tol = tol

    # -- helpers -------------------------------------------------------------------------
    def _validate(self, frame: pd.DataFrame) -> None:
        if self.method not in ("poisson", "ols"):
            raise ValueError(f"ElasticityModel: method must be 'poisson' or 'ols', got "
                             f"{self.method!r}")
        if not isinstance(frame, pd.DataFrame):
            raise ValueError("ElasticityModel.fit: pass a DataFrame (e.g. pricing_panel(...))")
        cols = [self.price_col, self.units_col] + ([self.by] if self.by else [])
        for fe in self.fixed_effects:
            cols += [fe] if isinstance(fe, str) else list(fe)
        missing = sorted({c for c in cols if c not in frame.columns})
        if missing:
            raise ValueError(
                f"ElasticityModel.fit: table lacks column(s) {missing}; build the panel with "
                "pricing_panel(shop.price_history, shop.products) or pass existing column names"
            )
        _check_prices(frame[self.price_col].to_numpy(dtype=float),
                      where=f"ElasticityModel.fit: column '{self.price_col}'")
        units = frame[self.units_col].to_numpy(dtype=float)
        if not np.all(np.isfinite(units)) or np.any(units < 0):
            raise ValueError(f"ElasticityModel.fit: column '{self.units_col}' must hold "
                             "counts >= 0 (units sold); fix or drop the bad rows first")
        if len(frame) == 0:
            raise ValueError("ElasticityModel.fit: the table is empty")

    def _design(self, frame: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
        logp = np.log(frame[self.price_col].to_numpy(dtype=float))
        if self.by is None:
            return logp[:, None], ["all"]
        groups = frame[self.by].astype("str").to_numpy()
        levels = sorted(pd.unique(groups))
        X = np.column_stack([np.where(groups == g, logp, 0.0) for g in levels])
        return X, list(levels)

    def _fe_codes(self, frame: pd.DataFrame) -> list[np.ndarray]:
        codes = [_codes(frame, fe) for fe in self.fixed_effects]
        return codes or [np.zeros(len(frame), dtype=np.int64)]  # intercept only

    # -- fitting -------------------------------------------------------------------------
    def _usable_rows(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
        """The rows a fit can use, and how many were dropped and why (zero sales)."""
        data = frame
        dropped: dict[str, int] = {}
        units = data[self.units_col].to_numpy(dtype=float)
        if self.method == "ols":
            keep = units > 0
            dropped["zero_units (log undefined)"] = int((~keep).sum())
            data = data.loc[keep]
        else:
            # Fixed-effect groups that never sell have an MLE at minus infinity (they carry
            # no information about the slope): drop them until none is left.
            n_before = len(data)
            for _ in range(50):
                keep = np.ones(len(data), dtype=bool)
                y = data[self.units_col].to_numpy(dtype=float)
                for code in self._fe_codes(data) if self.fixed_effects else []:
                    totals = np.bincount(code, weights=y)
                    keep &= totals[code] > 0
                if keep.all():
                    break
                data = data.loc[keep]
            dropped["fixed-effect groups with zero total units"] = n_before - len(data)
        return data, dropped

    def fit(self, frame: pd.DataFrame) -> ElasticityModel:
        """Estimate the elasticities; see the class docstring for the fitted attributes.

        Parameters
        ----------
        frame : pd.DataFrame
            A product-day panel such as :func:`pricing_panel` returns.

        Returns
        -------
        ElasticityModel
            The fitted model (``self``).
        """
        self._validate(frame)
        data, dropped = self._usable_rows(frame)
        if len(data) == 0:
            raise ValueError("ElasticityModel.fit: no rows left after dropping zero-sales "
                             "rows/groups; the data has (almost) no sales")
        X, names = self._design(data)
        y = data[self.units_col].to_numpy(dtype=float)
        codes = self._fe_codes(data)
        if self.method == "ols":
            beta, eta, vcov, n_iter = self._fit_ols(np.log(y), X, codes)
        else:
            beta, eta, vcov, n_iter = self._fit_poisson(y, X, codes)
        se = np.sqrt(np.diag(vcov))
        groups = (data[self.by].astype("str").to_numpy() if self.by is not None
                  else np.full(len(data), "all"))
        stats_rows = pd.DataFrame({"group": groups, "units": y}).groupby("group").agg(
            n_obs=("units", "size"), units=("units", "sum"))
        z = stats.norm.ppf(0.975)
        self.elasticities_ = pd.DataFrame({
            "group": names,
            "elasticity": beta,
            "std_error": se,
            "ci_low": beta - z * se,
            "ci_high": beta + z * se,
        }).merge(stats_rows, left_on="group", right_index=True, how="left")
        self.elasticities_["units"] = self.elasticities_["units"].astype(float)
        self.coef_ = beta
        self.n_obs_ = len(data)
        self.dropped_ = dropped
        self.n_iter_ = n_iter
        self.feature_names_ = names
        # Fixed-effect values (for predict): split eta - X beta into one effect per level.
        self._store_effects(data, eta - X @ beta)
        return self

    def _fit_ols(self, y: np.ndarray, X: np.ndarray,
                 codes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        w = np.ones_like(y)
        M = _demean(np.column_stack([y, X]), codes, w)
        yt, Xt = M[:, 0], M[:, 1:]
        bread = Xt.T @ Xt
        beta = np.linalg.solve(bread, Xt.T @ yt)
        resid = yt - Xt @ beta
        eta = y - resid
        vcov = self._sandwich(bread, Xt, resid)
        return beta, eta, vcov, 1

    def _fit_poisson(self, y: np.ndarray, X: np.ndarray,
                     codes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        mu = 0.5 * (y + y.mean())
        eta = np.log(mu)
        dev_old = np.inf
        beta = np.zeros(X.shape[1])
        Xt = X
        n_iter = 0
        for _ in range(self.max_iter):
            n_iter += 1
            z = eta + (y - mu) / mu
            M = _demean(np.column_stack([z, X]), codes, mu, tol=min(1e-8, self.tol * 10))
            zt, Xt = M[:, 0], M[:, 1:]
            bread = Xt.T @ (mu[:, None] * Xt)
            beta = np.linalg.solve(bread, Xt.T @ (mu * zt))
            eta = z - (zt - Xt @ beta)
            mu = np.exp(eta)
            with np.errstate(divide="ignore", invalid="ignore"):
                term = np.where(y > 0, y * np.log(y / mu), 0.0)
            dev = 2.0 * float(np.sum(term - (y - mu)))
            if abs(dev - dev_old) / (abs(dev) + 0.1) < self.tol:
                break
            dev_old = dev
        bread = Xt.T @ (mu[:, None] * Xt)
        vcov = self._sandwich(bread, Xt, y - mu)
        return beta, eta, vcov, n_iter

    @staticmethod
    def _sandwich(bread: np.ndarray, Xt: np.ndarray, score_resid: np.ndarray) -> np.ndarray:
        """Heteroskedasticity-robust (HC0) covariance of the slopes."""
        inv = np.linalg.inv(bread)
        meat = Xt.T @ (Xt * (score_resid ** 2)[:, None])
        return inv @ meat @ inv

    def _store_effects(self, data: pd.DataFrame, fe_part: np.ndarray) -> None:
        specs = list(self.fixed_effects) or ["_intercept"]
        codes = self._fe_codes(data)
        effects = [np.zeros(c.max() + 1) for c in codes]
        for _ in range(1000):
            change = 0.0
            for g, c in enumerate(codes):
                other = sum((effects[h][codes[h]] for h in range(len(codes)) if h != g),
                            np.zeros(len(fe_part)))
                new = np.bincount(c, weights=fe_part - other) / np.bincount(c)
                change = max(change, float(np.abs(new - effects[g]).max()))
                effects[g] = new
            if len(codes) == 1 or change < 1e-10:
                break
        self._effects = []
        for spec, c, eff in zip(specs, codes, effects, strict=True):
            cols = [spec] if isinstance(spec, str) else list(spec)
            if spec == "_intercept":
                self._effects.append((None, {(): float(eff[0])}))
                continue
            keys = data[cols].iloc[np.unique(c, return_index=True)[1]]
            table = {tuple(row): float(eff[i]) for i, row in
                     enumerate(keys.itertuples(index=False, name=None))}
            self._effects.append((cols, table))

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Expected units (Poisson) or the fitted log-units' exponent (OLS) for each row.

        Rows must use fixed-effect levels seen in ``fit`` (e.g. known products and days);
        change the price column to ask "what if".

        Parameters
        ----------
        frame : pd.DataFrame
            Rows with the columns used in ``fit``.

        Returns
        -------
        np.ndarray
            One prediction per row.
        """
        self._check_fitted("coef_")
        X, names = self._design(frame)
        if names != self.feature_names_:
            extra = set(names) - set(self.feature_names_)
            if extra:
                raise ValueError(f"ElasticityModel.predict: groups {sorted(extra)} were not seen "
                                 "in fit")
            X = np.column_stack([X[:, names.index(g)] if g in names else np.zeros(len(frame))
                                 for g in self.feature_names_])
        eta = X @ self.coef_
        for cols, table in self._effects:
            if cols is None:
                eta = eta + table[()]
                continue
            keys = list(frame[cols].itertuples(index=False, name=None))
            unseen = [k for k in keys if k not in table]
            if unseen:
                raise ValueError(f"ElasticityModel.predict: fixed-effect levels of {cols} not seen "
                                 f"in fit, e.g. {unseen[0]}; predict only for fitted rows")
            eta = eta + np.array([table[k] for k in keys])
        return np.exp(eta)
