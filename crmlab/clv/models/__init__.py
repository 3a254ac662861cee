"""The BTYD transaction models: BG/NBD and MBG/NBD, Pareto/NBD, and the NBD benchmark."""

from crmlab.clv.models.bgnbd import BetaGeoModel, ModifiedBetaGeoModel, sample_bgnbd
from crmlab.clv.models.nbd import NBDModel
from crmlab.clv.models.pareto_nbd import ParetoNBDModel

__all__ = ["BetaGeoModel", "ModifiedBetaGeoModel", "ParetoNBDModel", "NBDModel", "sample_bgnbd"]
