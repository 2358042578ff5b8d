"""`cashier centre ...`: the simulated insurance centre's own commands (import, serve, check).

They live in the centre (`centre.cli`); this module attaches them and hands them the config, so the centre
never imports the window. The centre's refusals become the window's exit codes: 1 refused, 2 usage.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Callable

from terminal.error_codes import E
from terminal.errors import CashierError, ConfigError


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from centre.cli import register_cli
    group = sub.add_parser("centre", help="the simulated insurance centre: import an export, serve it over HTTP")
    group.set_defaults(centre_config=None)
    actions = group.add_subparsers(dest="centre_command", metavar="ACTION", required=True)
    register_cli(actions, common)
    for parser in actions.choices.values():
        handler = parser.get_default("handler")
        parser.set_defaults(handler=_guarded(handler))


def _guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from centre.api import ConfigProblem, FaultSpecError, Refused
        args.centre_config = lambda: _config(args)
        try:
            return handler(args)
        except Refused as exc:
            raise CashierError(exc.code, exc.en, exc.zh) from None
        except (ConfigProblem, FaultSpecError) as exc:
            if isinstance(exc, ConfigProblem):
                raise ConfigError(str(exc)) from None
            raise E.BAD_FAULT.error(str(exc), str(exc)) from None
    return run


def _config(args: argparse.Namespace) -> tuple[dict[str, Any], Path]:
    from terminal.cli.main import load_cfg
    cfg = load_cfg(args)
    return cfg.raw, cfg.base_dir
