"""Uplift models (提升模型) in scikit-learn's shape.

The two-model approach (:class:`TwoModelUplift`, also called the T-learner; its treated-group
model is the classic *response model*) and the class transformation of Jaskowski &
Jaroszewicz (2012) (:class:`ClassTransformationUplift`), with honest out-of-fold scores
(:func:`cross_fit_uplift`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from crmlab.base import Estimator
from crmlab.offers._common import Seed, _rng
from crmlab.offers.groups import _require_both_arms, treatment_flags
from crmlab.stats import numeric_values as _outcome


def default_uplift_estimator(C: float = 0.1) -> Pipeline:
    """The base classifier used when none is given: standardized features and an
    L2-regularized logistic regression (``C=0.1``). Uplift is a small difference between two
    noisy rates, so the models must be smooth rather than sharp; on the shop this simple model
    ranks the planted segments in the right order, is deterministic and fits in a blink. Pass
    any scikit-learn classifier (e.g. gradient boosting) to the uplift models to compare.

    Parameters
    ----------
    C : float, default 0.1
        Inverse regularization strength of the logistic regression.

    Returns
    -------
    sklearn.pipeline.Pipeline
        An unfitted ``StandardScaler`` + ``LogisticRegression`` pipeline.
    """
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))


def _xy(X: Any, y: Any, treatment: Any, func: str) -> tuple[Any, np.ndarray, np.ndarray]:
    if isinstance(X, pd.DataFrame):
        nonnum = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
        if nonnum:
            raise ValueError(f"{func}: feature columns {nonnum[:5]} are not numeric; one-hot encode "
                             "them (customer_features does) or drop them.")
    arr = np.asarray(X, dtype="float64")
    if arr.ndim != 2 or len(arr) == 0:
        raise ValueError(f"{func}: X must be a non-empty 2-d table of features.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{func}: X has missing or infinite values; fill them (e.g. 0) first.")
    w = treatment_flags(treatment, "contacts", "treatment", func)
    yy = _outcome(y, "contacts", "y", func, binary=True)
    if not (len(arr) == len(w) == len(yy)):
        raise ValueError(f"{func}: X ({len(arr)} rows), y ({len(yy)}) and treatment ({len(w)}) must "
                         "have the same length.")
    _require_both_arms(w, "contacts", "treatment", func)
    return arr, yy.astype(int), w


def _proba(model: Any, X: np.ndarray) -> np.ndarray:
    proba = model.predict_proba(X)
    classes = list(model.classes_)
    if 1 in classes:
        return proba[:, classes.index(1)]
    return np.zeros(len(X))


class _ConstantClassifier:
    """Stands in when one arm has a single class (e.g. no holdout conversions): P(y=1) = rate."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.classes_ = np.array([0, 1])

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = np.full(len(X), self.rate)
        return np.column_stack([1 - p, p])


def _fit_classifier(estimator: Any, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None):
    if len(np.unique(y)) < 2:
        return _ConstantClassifier(float(y.mean()))
    model = clone(estimator)
    if sample_weight is None:
        return model.fit(X, y)
    if isinstance(model, Pipeline):  # route the weights to the final step
        kwargs = {f"{model.steps[-1][0]}__sample_weight": sample_weight}
    else:
        kwargs = {"sample_weight": sample_weight}
    try:
        return model.fit(X, y, **kwargs)
    except TypeError as err:
        raise ValueError(f"ClassTransformationUplift: {type(estimator).__name__}.fit does not take "
                         "sample_weight, which balancing treatment and control needs; use an "
                         "estimator that does (e.g. LogisticRegression, HistGradientBoostingClassifier) "
                         "or balance=False with a 50/50 experiment.") from err


class TwoModelUplift(Estimator):
    """Two-model uplift (T-learner): one classifier per arm, uplift = P(y|x, treated) - P(y|x, control).

    ``fit(X, y, treatment)`` fits ``model_treated_`` on the treated contacts and
    ``model_control_`` on the holdout; :meth:`predict_uplift` returns the difference of their
    predicted conversion probabilities. :meth:`predict_response` is the treated model alone --
    exactly the classic *response model* ("who buys when we send?"), which ranks customers who
    buy anyway (sure things) at the top. Simple and flexible; its weakness is that each model
    chases its own noise, so the difference is noisier than either.

    Parameters
    ----------
    estimator : scikit-learn classifier, optional
        Model of the treated (and of the holdout unless ``estimator_control`` is given); default
        :func:`default_uplift_estimator`. It is cloned, never fitted in place.
    estimator_control : scikit-learn classifier, optional
        A different model for the holdout.

    Attributes
    ----------
    model_treated_, model_control_ : fitted classifiers
        The two models.
    n_features_in_ : int
        Feature columns seen in ``fit``.
    treated_share_ : float
        Share of treated contacts in the training data.
    """

    _fit_call = "fit(X, y, treatment)"

    def __init__(self, estimator: Any = None, estimator_control: Any = None) -> None:
        self.estimator = estimator
        self.estimator_control = estimator_control

    def fit(self, X: Any, y: Any, treatment: Any) -> TwoModelUplift:
        """Fit one classifier on the treated contacts and one on the holdout.

        Parameters
        ----------
        X : array-like of shape (n_contacts, n_features)
            Features known before the send (e.g. :func:`contact_features`).
        y : array-like
            The 0/1 outcome.
        treatment : array-like
            The treatment column (see :func:`treatment_flags`).

        Returns
        -------
        TwoModelUplift
            The fitted model (``self``).
        """
        arr, yy, w = _xy(X, y, treatment, "TwoModelUplift.fit")
        base = self.estimator if self.estimator is not None else default_uplift_estimator()
        base_c = self.estimator_control if self.estimator_control is not None else base
        self.model_treated_ = _fit_classifier(base, arr[w], yy[w])
        self.model_control_ = _fit_classifier(base_c, arr[~w], yy[~w])
        self.n_features_in_ = arr.shape[1]
        self.treated_share_ = float(w.mean())
        return self

    def _check(self, X: Any) -> np.ndarray:
        self._check_fitted("model_treated_")
        arr = np.asarray(X, dtype="float64")
        if arr.ndim != 2 or arr.shape[1] != self.n_features_in_:
            raise ValueError(f"TwoModelUplift: X must have {self.n_features_in_} feature columns, "
                             f"got shape {arr.shape}; build it the same way as for fit.")
        return arr

    def predict_response(self, X: Any) -> np.ndarray:
        """P(convert | x, treated): the response model.

        Parameters
        ----------
        X : array-like of shape (n_contacts, n_features)
            Features built as for ``fit``.

        Returns
        -------
        np.ndarray
            One probability per contact.
        """
        return _proba(self.model_treated_, self._check(X))

    def predict_control(self, X: Any) -> np.ndarray:
        """P(convert | x, not treated): the baseline.

        Parameters
        ----------
        X : array-like of shape (n_contacts, n_features)
            Features built as for ``fit``.

        Returns
        -------
        np.ndarray
            One probability per contact.
        """
        return _proba(self.model_control_, self._check(X))

    def predict_uplift(self, X: Any) -> np.ndarray:
        """Estimated individual uplift P(y|x,T) - P(y|x,C).

        Parameters
        ----------
        X : array-like of shape (n_contacts, n_features)
            Features built as for ``fit``.

        Returns
        -------
        np.ndarray
            One uplift (a difference of probabilities) per contact.
        """
        arr = self._check(X)
        return _proba(self.model_treated_, arr) - _proba(self.model_control_, arr)

    predict = predict_uplift


class ClassTransformationUplift(Estimator):
    """Class-transformation uplift model (Jaskowski & Jaroszewicz 2012).

    Define ``z = 1`` for treated converters and for control non-converters, else ``z = 0``.
    In a 50/50 experiment ``P(z=1 | x) = (1 + uplift(x)) / 2``, so one classifier for ``z``
    gives ``uplift = 2 P(z=1|x) - 1``. The shop holds out only 20%; with ``balance=True``
    (default) each arm is reweighted to half the total weight (treated ``1 / (2 p)``,
    control ``1 / (2 (1-p))``, ``p`` = treated share), which restores the identity.
    One model, one set of hyperparameters, and it targets the uplift directly.

    Parameters
    ----------
    estimator : scikit-learn classifier, optional
        Model of the transformed class ``z``; default :func:`default_uplift_estimator`.
    balance : bool, default True
        Reweight the arms to equal total weight.

    Attributes
    ----------
    model_ : fitted classifier
        The model of ``z``.
    n_features_in_ : int
        Feature columns seen in ``fit``.
    treated_share_ : float
        Share of treated contacts in the training data.
    """

    _fit_call = "fit(X, y, treatment)"

    def __init__(self, estimator: Any = None, balance: bool = True) -> None:
        self.estimator = estimator
        self.balance = balance

    def fit(self, X: Any, y: Any, treatment: Any) -> ClassTransformationUplift:
        """Fit one classifier of the transformed class ``z`` (see the class docstring).

        Parameters
        ----------
        X : array-like of shape (n_contacts, n_features)
            Features known before the send.
        y : array-like
            The 0/1 outcome.
        treatment : array-like
            The treatment column (see :func:`treatment_flags`).

        Returns
        -------
        ClassTransformationUplift
            The fitted model (``self``).
        """
        arr, yy, w = _xy(X, y, treatment, "ClassTransformationUplift.fit")
        z = (yy == w.astype(int)).astype(int)
        p = float(w.mean())
        weight = np.where(w, 0.5 / p, 0.5 / (1 - p)) if self.balance else None
        base = self.estimator if self.estimator is not None else default_uplift_estimator()
        self.model_ = _fit_classifier(base, arr, z, sample_weight=weight)
        self.n_features_in_ = arr.shape[1]
        self.treated_share_ = p
        return self

    def predict_uplift(self, X: Any) -> np.ndarray:
        """Estimated individual uplift ``2 P(z=1|x) - 1``.

        Parameters
        ----------
        X : array-like of shape (n_contacts, n_features)
            Features built as for ``fit``.

        Returns
        -------
        np.ndarray
            One uplift (a difference of probabilities) per contact.
        """
        self._check_fitted("model_")
        arr = np.asarray(X, dtype="float64")
        if arr.ndim != 2 or arr.shape[1] != self.n_features_in_:
            raise ValueError(f"ClassTransformationUplift: X must have {self.n_features_in_} feature "
                             f"columns, got shape {arr.shape}.")
        return 2 * _proba(self.model_, arr) - 1

    predict = predict_uplift


def _folds(groups: Any, n_rows: int, n_splits: int, seed: Seed, func: str) -> np.ndarray:
    """A random fold per group (whole groups stay together), as one fold number per row."""
    g = np.arange(n_rows) if groups is None else np.asarray(groups)
    if len(g) != n_rows:
        raise ValueError(f"{func}: groups must have one value per row of X.")
    uniq, inv = np.unique(g, return_inverse=True)
    if len(uniq) < n_splits:
        raise ValueError(f"{func}: only {len(uniq)} groups for {n_splits} folds; use fewer folds.")
    perm = _rng(seed).permutation(len(uniq))
    fold_of_group = np.empty(len(uniq), dtype=int)
    fold_of_group[perm] = np.arange(len(uniq)) % n_splits
    fold = fold_of_group[inv]
    return fold


def cross_fit_uplift(model: Any, X: Any, y: Any, treatment: Any, groups: Any = None,
                     n_splits: int = 5, seed: Seed = 0) -> pd.DataFrame:
    """Out-of-fold uplift scores: every contact is scored by a model that never saw it.

    Folds are drawn at random by ``groups`` (e.g. customer_id), so a customer's contacts in
    other campaigns do not leak into the fold that scores them. Returns a DataFrame aligned
    with ``X`` with ``uplift`` and ``fold`` (plus ``response`` and ``control`` for a
    :class:`TwoModelUplift`). Qini curves and policy comparisons must use these scores --
    in-sample uplift scores look far better than they are.

    Parameters
    ----------
    model : TwoModelUplift or ClassTransformationUplift
        The (unfitted) model; it is cloned for each fold.
    X : array-like or pd.DataFrame
        Features, one row per contact.
    y : array-like
        The 0/1 outcome.
    treatment : array-like
        The treatment column.
    groups : array-like, optional
        Group labels kept together in one fold (e.g. customer_id).
    n_splits : int, default 5
        Number of folds.
    seed : int or numpy.random.Generator, default 0
        Random seed of the fold assignment.

    Returns
    -------
    pd.DataFrame
        One row per contact with the out-of-fold scores.
    """
    func = "cross_fit_uplift"
    arr, yy, w = _xy(X, y, treatment, func)
    if not isinstance(n_splits, int) or n_splits < 2:
        raise ValueError(f"{func}: n_splits={n_splits!r} must be an integer >= 2.")
    fold = _folds(groups, len(arr), n_splits, seed, func)
    out = pd.DataFrame({"uplift": np.nan, "fold": fold}, index=getattr(X, "index", None))
    two = isinstance(model, TwoModelUplift)
    if two:
        out["response"] = np.nan
        out["control"] = np.nan
    for k in range(n_splits):
        test = fold == k
        train = ~test
        if w[train].all() or not w[train].any():
            raise ValueError(f"{func}: fold {k} leaves no treated or no holdout contacts to train on; "
                             "use fewer folds or more contacts.")
        fitted = clone(model).fit(arr[train], yy[train], w[train])
        out.loc[out.index[test], "uplift"] = fitted.predict_uplift(arr[test])
        if two:
            out.loc[out.index[test], "response"] = fitted.predict_response(arr[test])
            out.loc[out.index[test], "control"] = fitted.predict_control(arr[test])
    return out
