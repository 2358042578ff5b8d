"""`cashier emulator serial`: the command line of the serial card terminal (`emulator.serial_terminal`)."""

from __future__ import annotations

import argparse
import sys
import time


def register_cli(group, common: argparse.ArgumentParser) -> None:
    """Add `cashier emulator serial --link PATH --profile P [...]` to the emulator group."""
    p = group.add_parser(
        "serial", parents=[common], help="a serial card terminal on a pty, its path at --link",
        description="Serve a serial card terminal (T=1 blocks, CT-BCS commands, PIN keypad) on a pty "
                    "until stopped. Lines on stdin: 'pin DIGITS' (typed on the keypad), "
                    "'insert PROFILE', 'remove', 'quit'.")
    p.add_argument("--link", required=True, help="where to publish the pty's path (a symlink)")
    p.add_argument("--profile", help="card profile in the slot at start (none: empty slot)")
    p.add_argument("--baud", type=int, default=0, help="simulated line speed in baud (0: unthrottled)")
    p.add_argument("--flip-rate", type=_share, default=0.0, help="share of bytes with a flipped bit (0.05 = 5%%)")
    p.add_argument("--drop-rate", type=_share, default=0.0, help="share of bytes lost on the line")
    p.add_argument("--delay", type=float, default=0.0, help="seconds before every answer")
    p.add_argument("--stall", type=float, default=0.0, help="seconds a card answer stalls (the terminal asks for WTX)")
    p.add_argument("--stall-every", type=int, default=1, help="stall on every n-th card command")
    p.add_argument("--seed", type=int, help="seed of the fault generator (repeatable runs)")
    p.add_argument("--keypad", action="append", default=[], metavar="PIN",
                   help="PINs the keypad will type, in order (repeatable)")
    p.add_argument("--state-dir", help="card state folder (default: the config's)")
    p.set_defaults(handler=_cli_serve)


def _cli_serve(args: argparse.Namespace) -> int:
    import signal

    from drivers.errors import CardError
    from emulator.profiles import load_card
    from emulator.serial_terminal import Keypad, LineFaults, SerialTerminal  # not for every `cashier` start
    if args.state_dir:
        state_dir = args.state_dir
    else:
        state_dir = args.resolve_state_dir(args)  # given by the terminal's CLI: the config's card-state folder

    def say(msg: str) -> None:
        print(msg, flush=True)

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    card = load_card(args.profile, state_dir) if args.profile else None
    faults = LineFaults(bytes_per_s=args.baud / 10 if args.baud else 0.0, flip_rate=args.flip_rate,
                        drop_rate=args.drop_rate, delay_s=args.delay, stall_s=args.stall,
                        stall_every=args.stall_every, seed=args.seed)
    try:
        term = SerialTerminal(card, args.link, faults, Keypad(args.keypad)).start()
    except (FileExistsError, FileNotFoundError) as exc:
        print(f"cashier: --link: {exc}", file=sys.stderr)
        return 2
    say(f"serial terminal ready at {args.link} ({term.slave_path}); card: {args.profile or 'none'}; "
        "stdin: 'pin DIGITS' / 'insert PROFILE' / 'remove' / 'quit'")
    try:
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            if words[0] == "quit":
                break
            if words[0] == "pin" and len(words) == 2:
                term.keypad.type(words[1])
                say("pin typed")
            elif words[0] == "remove" and len(words) == 1:
                term.remove()
                say("removed")
            elif words[0] == "insert" and len(words) == 2:
                try:
                    term.insert(load_card(words[1], state_dir))
                    say(f"inserted {words[1]}")
                except CardError as exc:
                    say(f"error: {exc.message}")
            else:
                say("commands: pin DIGITS | insert PROFILE | remove | quit")
        else:
            while True:  # stdin closed (a service): serve until a signal
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        term.stop()
    return 0


def _share(text: str) -> float:
    """A rate between 0 and 1 (argparse type: a bad value is a usage error)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"a share between 0 and 1 (0.05 = 5%), got {text}")
    return value
