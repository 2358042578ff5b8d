"""Small widgets of the cashier UI: money, masked ID number, the emulator's card tray."""
