"""omnidoc-sandbox: a local, offline stand-in for the Omnidoc téléexpertise interop API.

Start-up: loading the modules creates some 140,000 objects that live as long as the
process, and the garbage collector, left on, walks them again and again while they load
(about a sixth of the start). It is paused here, at the package's first import, and
resumed by `resume_collector()` once the process has loaded what it needs: app.main
after building the app, the command line for a command that does not load it.
"""

import gc

gc.disable()


def resume_collector() -> None:
    """Freeze what exists (later full passes skip it too) and turn the collector back on."""
    gc.freeze()
    gc.enable()
