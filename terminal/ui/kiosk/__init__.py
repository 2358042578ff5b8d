"""The patient's self-service kiosk (`build_app(..., mode="kiosk")` pushes `KioskScreen`)."""

from terminal.ui.kiosk.screen import KioskScreen

__all__ = ["KioskScreen"]
