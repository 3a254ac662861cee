"""crmlab: the helper package of the e-commerce CRM workbook (電商客戶關係管理)."""

__version__ = "0.1.0"
