"""The local web workspace: ``qualcode serve``."""

from __future__ import annotations

import click

from .common import Env, coder_option, pass_env, resolve_coder


@click.command("serve")
@click.option("--port", type=int, default=0, show_default=False, metavar="PORT",
              help="Port on 127.0.0.1 to answer on (default: a free one).")
@click.option("--no-browser", is_flag=True, help="Print the workspace's link instead of opening the browser.")
@coder_option
@pass_env
def serve(env: Env, port, no_browser, coder):
    """Read and code the transcripts in your browser: a local workspace on this computer only.

    \b
    Read:        each transcript with its coded fragments in their themes' colours
    Code:        select words, pick a code; click a highlight to remove, confirm or memo it
    Theme board: drag codes between themes; merge, split, rename, define, set status
    Review:      step 4's checks with links to the fragments they name
    Supervisor:  theme summaries with quotes and a comment box per theme
    History:     every act, with undo

    Every change is the same act as the CLI's (history, undo, backups), so you can switch between
    the browser, the coding sheet and the command line. The link carries a token for this run;
    Ctrl-C stops the workspace.
    """
    from ..web.server import listen, prepare, serve as run

    app = prepare(env.project_path, coder=resolve_coder(coder))
    run(app, listen(port), browser=not no_browser, echo=click.echo)
