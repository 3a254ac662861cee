"""Moved to :mod:`crmlab.course.build` (the course layer); this old path keeps working.

The module object *is* :mod:`crmlab.course.build` (``sys.modules`` points there), so every name,
private ones included, and every patch a test makes reach the same code.
"""

import importlib
import sys

__moved_to__ = "crmlab.course.build"
sys.modules[__name__] = importlib.import_module(__moved_to__)
