"""EWS: a supply-chain early-warning system for critical items."""

__version__ = "0.1.0"
