"""``python -m linkmsg``: the same as the ``linkmsg`` command."""

from linkmsg.cli import main

raise SystemExit(main())
