"""The course's units and lectures: which notebook is which lecture of which unit.

The one source of the labels in notebook headings, exercise headings, the README's course map
and the site (:data:`COURSE_MAP`, :data:`UNIT_NAMES`, :func:`unit_label`). It is data, not
tooling: a notebook and the exercises read it at run time, so it lives in the library; the
course layer (:mod:`crmlab.course`: build, site, course map) imports it from here.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["COURSE_MAP", "UNIT_NAMES", "CourseEntry", "unit_label"]


class CourseEntry(NamedTuple):
    """One notebook in the course map.

    Parameters
    ----------
    unit : str
        The course unit, e.g. ``"2 data analysis"`` (no number for the welcome notebook).
    modules : str
        The crmlab module(s) the notebook teaches, comma-separated.
    lecture : str
        Its place in the unit, e.g. ``"2a"`` (the label in its heading).
    """

    unit: str  #: the course unit, e.g. "2 data analysis" (0 for the welcome notebook)
    modules: str  #: the crmlab module(s) the notebook teaches
    lecture: str  #: its place in the unit, e.g. "2a" (the label in its heading)


#: The course map: notebook -> (unit, crmlab module(s), lecture label). The one source of the
#: labels in notebook headings, exercise headings, the README and the site. Notebooks not
#: listed here are still built; their unit shows as "-".
COURSE_MAP: dict[str, CourseEntry] = {
    "00_welcome": CourseEntry("how to use the workbook, the shop's tables", "crmlab.data", "0"),
    "01_crm_systems": CourseEntry("1 CRM systems", "crmlab.profile, crmlab.data.store", "1a"),
    "01_data_governance_and_omnichannel": CourseEntry("1 CRM systems", "crmlab.profile", "1b"),
    "01_loyalty_and_privacy": CourseEntry("1 CRM systems", "crmlab.profile, crmlab.kpi", "1c"),
    "02_rfm_and_value": CourseEntry("2 data analysis", "crmlab.rfm", "2a"),
    "03_customer_journey": CourseEntry("2 data analysis", "crmlab.journey", "2b"),
    "03_transaction_value_and_selling_points": CourseEntry("2 data analysis",
                                                           "crmlab.journey, crmlab.kpi, crmlab.basket",
                                                           "2c"),
    "04_group_segmentation": CourseEntry("2 data analysis", "crmlab.segments", "2d"),
    "05_clv_and_churn": CourseEntry("2 data analysis", "crmlab.clv", "2e"),
    "05_early_warning_and_survival": CourseEntry("2 data analysis", "crmlab.clv, crmlab.survival",
                                                 "2f"),
    "06_recommendations_and_baskets": CourseEntry("3 personalization",
                                                  "crmlab.recommend, crmlab.basket", "3a"),
    "07_dynamic_pricing": CourseEntry("3 personalization", "crmlab.pricing", "3b"),
    "07_revenue_management": CourseEntry("3 personalization", "crmlab.pricing", "3c"),
    "08_offers_and_experiments": CourseEntry("3 personalization", "crmlab.offers", "3d"),
    "08_uplift_and_targeting": CourseEntry("3 personalization", "crmlab.offers", "3e"),
    "09_customer_support": CourseEntry("4 support", "crmlab.support", "4a"),
    "09_online_and_smart_service": CourseEntry("4 support", "crmlab.support, crmlab.journey", "4b"),
    "09_staffing_and_queues": CourseEntry("4 support", "crmlab.support", "4c"),
    "10_after_sales": CourseEntry("5 after-sales", "crmlab.aftersales", "5a"),
    "10_return_policy": CourseEntry("5 after-sales", "crmlab.aftersales", "5b"),
    "10_satisfaction_surveys": CourseEntry("5 after-sales", "crmlab.aftersales", "5c"),
    "11_feedback_loop": CourseEntry("6 feedback", "crmlab.feedback", "6a"),
    "11_root_cause_and_fix": CourseEntry("6 feedback", "crmlab.feedback", "6b"),
    "12_crm_scorecard": CourseEntry("7 evaluation + capstone", "crmlab.kpi", "7a"),
    "12_end_to_end_capstone": CourseEntry("7 evaluation + capstone",
                                          "crmlab.kpi, crmlab.segments, crmlab.clv, crmlab.offers, "
                                          "crmlab.pricing, crmlab.support, crmlab.feedback", "7b"),
    "13_research_at_scale": CourseEntry("2 data analysis, research (after 05)", "crmlab.scale",
                                        "2g"),
}

#: The course units in the source's words (繁體中文, English), keyed by unit number.
UNIT_NAMES: dict[str, tuple[str, str]] = {
    "0": ("開始之前", "before the units"),
    "1": ("CRM系統", "CRM systems"),
    "2": ("客戶數據分析", "customer data analysis"),
    "3": ("個性化行銷", "personalization"),
    "4": ("客戶服務", "customer support"),
    "5": ("售後服務", "after-sales service"),
    "6": ("用戶回饋", "user feedback"),
    "7": ("CRM實施效果評估", "evaluating CRM"),
}


def unit_label(stem: str, lang: str = "en") -> str:
    """The heading label of a course notebook, from :data:`COURSE_MAP` and :data:`UNIT_NAMES`.

    Parameters
    ----------
    stem : str
        The notebook's file name without ``.ipynb``, e.g. ``"02_rfm_and_value"``.
    lang : str
        The edition: ``"en"`` (default) or ``"zh-TW"`` (the 繁體中文 edition, see crmlab.i18n).

    Returns
    -------
    str
        E.g. ``"Unit 2a · 客戶數據分析 (customer data analysis)"`` (``"單元 2a · 客戶數據分析"``
        in zh-TW); a ValueError when the notebook is not in :data:`COURSE_MAP`.
    """
    if stem not in COURSE_MAP:
        raise ValueError(f"{stem!r} is not in crmlab.units.COURSE_MAP; add it there first")
    lecture = COURSE_MAP[stem].lecture
    zh, en = UNIT_NAMES[lecture.rstrip("abcdefgh")]
    return f"單元 {lecture} · {zh}" if lang == "zh-TW" else f"Unit {lecture} · {zh} ({en})"
