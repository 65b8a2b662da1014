"""One module per screen: its layout and its own State."""
