"""`python -m server ...` is the `sahakum` command (serve starts its merger processes this way)."""

from server.cli import main

main(prog_name="sahakum")
