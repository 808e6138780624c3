"""Serve the classroom view in a browser: ``python -m toolkit.viz [--port N] [--no-open]``.

Runs ``solara run toolkit/viz/app.py`` on 127.0.0.1 (this machine only) in Solara's production
mode and with Solara's usage telemetry off. A plain ``solara run`` starts in development mode,
where the page loads a check from solara.dev once per machine and the server sends usage
statistics to Mixpanel: both fail offline, and neither is needed. Served this way, the page
loads nothing from outside this machine; Solara's front-end packages come from its local cache,
which ``./run.sh`` fills from the npm registry at install time (``python -m toolkit.viz.assets``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from toolkit.viz.browser import solara_command, solara_env


def main(argv: list[str] | None = None) -> int:
    """Command line: serve the view until Ctrl-C; return the server's exit status."""
    parser = argparse.ArgumentParser(prog="python -m toolkit.viz", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (8765)")
    parser.add_argument("--no-open", action="store_true", help="do not open a browser")
    args = parser.parse_args(argv)
    from toolkit.viz.assets import missing_assets

    missing = missing_assets()
    if missing:
        print(
            f"python -m toolkit.viz: Solara's front-end packages {', '.join(missing)} are not "
            "installed, so the page will fetch them from a CDN; to serve them from this machine "
            "run ./run.sh python -m toolkit.viz.assets (needs npm).",
            file=sys.stderr,
        )
    cmd = solara_command(host=args.host, port=args.port, open_browser=not args.no_open)
    print(f"The classroom view: http://{args.host}:{args.port}/ (Ctrl-C stops it)", flush=True)
    try:
        return subprocess.call(cmd, env=solara_env())
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
