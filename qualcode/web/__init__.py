"""The local web workspace (``qualcode serve``): read, code, re-theme and review in the browser.

Read transcripts in colour, code fragments by
selecting words, re-theme on a board, review with the supervisor.

:mod:`.app` is the Starlette application (routes and the checks at the door), :mod:`.pages` what each
page shows, :mod:`.acts` the library act behind each button, :mod:`.server` listening on 127.0.0.1.
Templates and static assets ship in this package; nothing is built or downloaded. Starlette is
imported only when the workspace starts (``qualcode --help`` never loads it).
"""
