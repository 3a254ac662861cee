"""Moved to :mod:`crmlab.course.exercises.feedback` (the instructor's exercise tools, in the course layer); this old path keeps working.

The module object *is* :mod:`crmlab.course.exercises.feedback` (``sys.modules`` points there), so every name,
private ones included, and every patch a test makes reach the same code.
"""

import importlib
import sys

__moved_to__ = "crmlab.course.exercises.feedback"
sys.modules[__name__] = importlib.import_module(__moved_to__)
