"""``python -m axilla_kg``: the same command line as the ``axilla-kg`` console script.

The tests run the CLI this way, with the checkout first on ``PYTHONPATH``, so they exercise the
working tree rather than whatever copy ``pip`` installed last."""

import sys

try:
    from axilla_kg.cli import main
except KeyboardInterrupt:  # Ctrl-C while the CLI itself is being imported: the same one line as later
    print("axilla-kg: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
