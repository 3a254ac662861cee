"""Moved to :mod:`crmlab.course.cli` (the course layer; the ``crmlab`` command); this old path keeps working.

The module object *is* :mod:`crmlab.course.cli` (``sys.modules`` points there), so every name,
private ones included, and every patch a test makes reach the same code.
"""

import importlib
import sys

__moved_to__ = "crmlab.course.cli"
if __name__ == "__main__":  # python -m crmlab.cli still runs the command
    raise SystemExit(importlib.import_module(__moved_to__).main())
sys.modules[__name__] = importlib.import_module(__moved_to__)
