"""`python -m ovni_assets.cli`: the `ovni` command without its console script."""

import sys

from ovni_assets.cli import main

sys.exit(main())
