"""Entry point for ``python -m toolkit``."""

import sys

from toolkit._base.forkserver import start_early

# before the command line's imports: a run's local workers' fork server loads meanwhile
start_early(sys.argv[1:])

from toolkit.cli import main  # noqa: E402

sys.exit(main())
