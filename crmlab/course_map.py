"""Moved to :mod:`crmlab.course.course_map` (the course layer); this old path keeps working.

The module object *is* :mod:`crmlab.course.course_map` (``sys.modules`` points there), so every name,
private ones included, and every patch a test makes reach the same code.
"""

import importlib
import sys

__moved_to__ = "crmlab.course.course_map"
if __name__ == "__main__":  # python -m crmlab.course_map still runs the command
    raise SystemExit(importlib.import_module(__moved_to__).main())
sys.modules[__name__] = importlib.import_module(__moved_to__)
