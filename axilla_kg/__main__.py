"""``python -m axilla_kg``: the same command line as the ``axilla-kg`` console script.

The tests run the CLI this way, with the checkout first on ``PYTHONPATH``, so they exercise the
working tree rather than whatever copy ``pip`` installed last."""

import sys

from axilla_kg.cli import main

sys.exit(main())
