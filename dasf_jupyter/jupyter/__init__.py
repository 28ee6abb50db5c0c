"""Jupyter integration: ``%load_ext dasf_jupyter`` magics, forms, rich display, cell serving.

Importing this package stays cheap; IPython and ipywidgets load when the extension does.
"""

from __future__ import annotations

import atexit
from typing import Any

#: the magics instance of the shell the extension is loaded in (one shell per kernel)
_loaded: dict[int, Any] = {}
_atexit_registered = False
#: shells where the extension installed its DasfError handler
_handler_installed: set[int] = set()


def _shutdown_all() -> None:
    """Stop every cell module, connection and embedded broker (kernel exit)."""
    for magics in list(_loaded.values()):
        magics.session.shutdown()


def _show_dasf_error(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset=None):
    """Custom exception handler: a DASF error as one readable line, not a traceback."""
    magics = _loaded.get(id(shell))
    if magics is not None and not magics.short_errors:
        return shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    from ..errors import RemoteError

    if isinstance(value, RemoteError):
        from IPython.display import HTML, display

        from .display import remote_error_html

        display(HTML(remote_error_html(value)))
    shell.showtraceback((etype, value, tb), exception_only=True)
    return None


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext dasf_jupyter``: register ``%dasf``, %config traits and rich display."""
    global _atexit_registered
    if id(shell) in _loaded:
        return
    from .commands_path import add_commands_to_path

    add_commands_to_path()  # `!dasf keygen` works however Jupyter was started
    from ..errors import DasfError
    from .display import register_formatters
    from .magics import DasfMagics, complete_dasf

    magics = DasfMagics(shell=shell, parent=shell)
    shell.register_magics(magics)
    if magics not in shell.configurables:  # Magics.__init__ usually registers it already
        shell.configurables.append(magics)
    register_formatters(shell)
    shell.set_hook("complete_command", complete_dasf, str_key="%dasf")
    if not shell.custom_exceptions:  # never replace a handler another extension installed
        shell.set_custom_exc((DasfError,), _show_dasf_error)
        _handler_installed.add(id(shell))
    _loaded[id(shell)] = magics
    if not _atexit_registered:
        atexit.register(_shutdown_all)
        _atexit_registered = True


def unload_ipython_extension(shell: Any) -> None:
    """``%unload_ext dasf_jupyter``: stop served modules, broker and connection."""
    magics = _loaded.pop(id(shell), None)
    if magics is None:
        return
    from .display import unregister_formatters

    magics.session.shutdown()
    unregister_formatters(shell)
    shell.configurables[:] = [c for c in shell.configurables if c is not magics]
    shell.magics_manager.magics["line"].pop("dasf", None)
    shell.magics_manager.magics["cell"].pop("dasf", None)
    if id(shell) in _handler_installed:
        _handler_installed.discard(id(shell))
        shell.set_custom_exc((), None)


__all__ = ["load_ipython_extension", "unload_ipython_extension"]
