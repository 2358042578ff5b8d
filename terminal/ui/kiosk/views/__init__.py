"""The kiosk's views, one widget per step: the screen switches between them and answers their messages."""

from terminal.ui.kiosk.views.busy import BusyView
from terminal.ui.kiosk.views.choose import ChooseView
from terminal.ui.kiosk.views.common import Chosen, Finish, GoTo, PinEntered
from terminal.ui.kiosk.views.idle import IdleView
from terminal.ui.kiosk.views.message import MessageView
from terminal.ui.kiosk.views.overview import OverviewView
from terminal.ui.kiosk.views.pin import PIN_LENGTH, PinView
from terminal.ui.kiosk.views.receipt import ReceiptView

__all__ = ["PIN_LENGTH", "BusyView", "ChooseView", "Chosen", "Finish", "GoTo", "IdleView", "MessageView",
           "OverviewView", "PinEntered", "PinView", "ReceiptView"]
