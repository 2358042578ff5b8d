"""The process each browser tab runs (`python -m terminal.web.app_main`): lock the reader, run the app.

The reader lock is taken here, in the app process, so the kernel releases it when the tab
closes or the process dies. A tab that finds the reader taken runs the "in use" app instead.
"""

from __future__ import annotations

import argparse
import sys

from terminal.web.lock import ReaderLock
from terminal.web.settings import MODES, WebSettings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m terminal.web.app_main")
    parser.add_argument("--mode", choices=MODES, default="kiosk")
    parser.add_argument("--reader", default=None)
    parser.add_argument("--config", default=None)
    parser.add_argument("--db", default=None)
    parser.add_argument("--lang", choices=("zh", "en"), default=None)
    return parser.parse_args(argv)


def build(args: argparse.Namespace):
    """The app for this tab: the real one when this process got the reader, else the in-use one."""
    from terminal.config import load_config
    cfg = load_config(args.config, args.db, args.lang)
    settings = WebSettings.from_config(cfg)
    spec = settings.reader_spec(cfg, args.reader)
    lang = args.lang or cfg.terminal.lang
    lock = ReaderLock(settings.lock_dir, spec)
    if not lock.try_acquire():
        from terminal.ui.kiosk.in_use import InUseApp
        return InUseApp(lock.try_acquire, lang), lock
    demo = spec.startswith("emulator")
    from terminal.ui.app import build_app
    return build_app(cfg, reader_spec=spec, demo=demo, mode=args.mode, lang=lang), lock


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        app, lock = build(args)
    except Exception as exc:  # config or reader trouble: one clear line on stderr, no traceback
        from terminal.errors import describe
        _, message = describe(exc, args.lang or "zh")
        print(f"cashier web: {message}", file=sys.stderr)
        return 1
    try:
        app.run()
    finally:
        lock.release()
    return 0


if __name__ == "__main__":
    sys.exit(main())
