"""Jupyter integration: ``%load_ext dasf_jupyter`` magics, forms, rich display, cell serving.

Importing this package stays cheap; IPython and ipywidgets load when the extension does.
"""

from __future__ import annotations

import atexit
from pathlib import Path
from typing import Any

#: the magics instance of the shell the extension is loaded in (one shell per kernel)
_loaded: dict[int, Any] = {}
#: holds True once the kernel-exit clean-up is registered
_atexit_registered: list[bool] = []
#: shells where the extension installed its DasfError handler
_handler_installed: set[int] = set()


def _shutdown_all() -> None:
    """Stop every cell module, connection and embedded broker (kernel exit)."""
    for magics in list(_loaded.values()):
        magics.session.shutdown()


def _show_dasf_error(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset=None):
    """Custom exception handler: a DASF error as one short line, not a client traceback.

    A remote error's own traceback (where the module sends it) folds out under the line; the
    frames of our client are of no use to the notebook's author and are not shown
    (``%config DasfMagics.short_errors = False`` brings the full local traceback back).
    """
    magics = _loaded.get(id(shell))
    if magics is not None and not magics.short_errors:
        return shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    from IPython.display import display

    from .error_view import error_bundle, short_message

    display(error_bundle(value), raw=True)
    if hasattr(shell, "_last_traceback"):
        # ipykernel sends this with the failed execute_reply; not a stale earlier one
        shell._last_traceback = [short_message(value)]
    return None


def _share_own_topics() -> None:
    """Let cell modules of the user's other kernels send this kernel their tracebacks."""
    try:
        from jupyter_core.paths import jupyter_runtime_dir

        from ..client import own_topics

        own_topics.share_with_user(Path(jupyter_runtime_dir()) / "dasf-own-topics")
    except (ImportError, OSError):
        pass  # tracebacks then reach this kernel's own callers only


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext dasf_jupyter``: register ``%dasf``, %config traits and rich display."""
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
    _share_own_topics()
    if not _atexit_registered:
        atexit.register(_shutdown_all)
        _atexit_registered.append(True)


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
