"""kisalert: a wireless-intrusion alert server that speaks Kismet's alert REST API."""

__version__ = "0.1.0"
