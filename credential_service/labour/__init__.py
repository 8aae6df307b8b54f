"""Electronic labour contracts: the two-party signing workflow, the anchored lifecycle, the
evidence package and its printable report. See `credential_service.labour.service`."""
