"""rootwatch: nightly org-wide audit of AWS member-account root credentials."""

__version__ = "0.1.0"
