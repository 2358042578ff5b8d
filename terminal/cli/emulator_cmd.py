"""`cashier emulator ...`: the group other emulator attachments plug into (vpcd, serial), and `profiles`."""

from __future__ import annotations

import argparse
import importlib
from dataclasses import asdict

from terminal.cli.output import emit

#: modules that add commands to the group with register_cli(group, common)
ATTACHMENTS = ("emulator.vpcd", "emulator.serial_cli", "emulator.phone", "emulator.scanner_cli")


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    emu = sub.add_parser("emulator", help="the virtual card: profiles, serve it through vpcd or a serial pty")
    # the emulator never imports the terminal: its commands get the config's card-state folder from here
    emu.set_defaults(resolve_state_dir=_state_dir, resolve_voucher=_voucher)
    group = emu.add_subparsers(dest="emulator_command", metavar="ACTION", required=True)
    profiles = group.add_parser("profiles", parents=[common], help="list the bundled card profiles")
    profiles.set_defaults(handler=cmd_profiles)
    for name in ATTACHMENTS:
        importlib.import_module(name).register_cli(group, common)


def _state_dir(args: argparse.Namespace):
    from terminal.cli.main import load_cfg
    return load_cfg(args).state_dir


def _voucher(args: argparse.Namespace) -> tuple[str, int]:
    """The config's [voucher] key (hex, "" when none) and code lifetime, for the emulator's phone."""
    from terminal.cli.main import load_cfg
    table = load_cfg(args).voucher
    return table.key, table.lifetime_s


def cmd_profiles(args: argparse.Namespace) -> int:
    from emulator.profiles import list_profiles
    items = list_profiles()
    rows = [f"{p.id:<16} {p.version:<5} {p.card_no:<10} {p.region:<7} {p.description}" for p in items]
    text = "\n".join([f"{'profile':<16} {'ver':<5} {'card_no':<10} {'region':<7} description", *rows])
    return emit(args, {"profiles": [asdict(p) for p in items]}, text)
