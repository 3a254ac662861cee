"""The shop's data: the simulator, the table contract, validation, loaders and readers."""

from .io import get_shop, load_shop, save_shop
from .readers import read_cdnow, read_online_retail
from .schema import TABLE_NAMES, TABLES
from .simulate import SIZES, Shop, simulate
from .store import CRMStore
from .validate import validate

__all__ = [
    "SIZES", "TABLES", "CRMStore", "TABLE_NAMES", "Shop", "get_shop", "load_shop", "read_cdnow", "read_online_retail",
    "save_shop", "simulate", "validate",
]
