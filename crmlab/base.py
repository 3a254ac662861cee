"""The one base class of crmlab's estimators (模型的共同介面), in scikit-learn's shape.

Everything in crmlab that learns from data -- the BTYD models of unit 2, the uplift and
demand models of unit 3, the support and feedback classifiers of units 4-6 -- follows the
scikit-learn estimator convention, so a student who knows one knows them all:

* hyperparameters are the ``__init__`` arguments, stored unchanged under the same names
  (``get_params``/``set_params``/``clone`` come from :class:`sklearn.base.BaseEstimator`);
* ``fit(...)`` learns and returns ``self``, so ``Model().fit(data).predict(...)`` chains;
* what was learned ends in an underscore (``params_``, ``n_customers_``), which is how
  :func:`sklearn.utils.validation.check_is_fitted` tells a fitted model from a fresh one.

:class:`Estimator` adds one thing: :meth:`Estimator._check_fitted` raises a
:class:`sklearn.exceptions.NotFittedError` (a ``ValueError``) that says which call is missing,
e.g. "BetaGeoModel is not fitted yet; call fit(summary) first."
"""

from __future__ import annotations

from collections.abc import Sequence

from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

__all__ = ["Estimator", "NotFittedError"]


class Estimator(BaseEstimator):
    """Base of crmlab's estimators: scikit-learn's parameters plus a helpful fitted check.

    Subclasses set ``_fit_call`` to the call a user should make (``"fit(summary)"``) and
    call ``self._check_fitted()`` at the top of every method that needs a fitted model.

    Parameters
    ----------
    **params
        None here: a subclass's ``__init__`` takes its hyperparameters as keyword
        arguments and stores each unchanged under the same name (scikit-learn's rule, which
        ``get_params``/``set_params``/``clone`` rely on).
    """

    #: How the error message tells the user to fit this model.
    _fit_call: str = "fit(...)"

    def _check_fitted(self, attributes: str | Sequence[str] | None = None) -> None:
        """Raise ``NotFittedError`` (a ``ValueError``) naming the model and the call to make.

        ``attributes`` are the fitted attributes to look for; by default any attribute that
        ends in an underscore counts, as in :func:`sklearn.utils.validation.check_is_fitted`.

        Parameters
        ----------
        attributes : str or sequence of str, optional
            Fitted attributes that must exist (default: any ending in ``_``).

        Raises
        ------
        NotFittedError
            When the model is not fitted; the message names the model and ``_fit_call``.
        """
        msg = f"{type(self).__name__} is not fitted yet; call {self._fit_call} first."
        check_is_fitted(self, attributes, msg=msg.replace("%", "%%"))
