"""`cashier demo` and `cashier ui` on the command line: options reach the app factory."""

from __future__ import annotations

import pytest

from terminal.cli.main import build_parser


@pytest.mark.parametrize("argv,lang", [(["demo", "--lang", "en"], "en"), (["--lang", "en", "demo"], "en"),
                                       (["demo"], None), (["ui", "--reader", "pcsc", "--lang", "zh"], "zh")])
def test_options(argv, lang):
    args = build_parser().parse_args(argv)
    assert getattr(args, "lang", None) == lang
    assert args.handler.__name__ in ("run_demo", "run_ui")


def test_demo_builds_the_database_and_the_app(cfg, monkeypatch):
    """`cashier demo` creates the demo database when missing, then runs the app built by build_app."""
    import terminal.ui.app as app_module
    from terminal.cli import ui_cmd
    ran = {}

    class Stub:
        def __init__(self, app) -> None:
            self.app = app

        def run(self) -> None:
            ran["app"] = self.app

    real = app_module.build_app
    monkeypatch.setattr(app_module, "build_app", lambda *a, **kw: Stub(real(*a, **kw)))
    monkeypatch.setattr("terminal.cli.main.load_cfg", lambda args: cfg)
    assert not cfg.db_path.exists() and not cfg.resolve(cfg.centre.db).exists()
    args = build_parser().parse_args(["demo", "--profile", "li_na", "--lang", "en"])
    assert ui_cmd.run_demo(args) == 0
    assert cfg.db_path.exists()
    assert cfg.resolve(cfg.centre.db).exists()          # the embedded centre's, with the demo loaded into it
    app = ran["app"]
    assert app.demo and app.lang == "en" and app.reader_spec == "emulator:li_na"
