"""Data-use consent: requests as QR payloads, grants and withdrawals relayed to
``ConsentRegistry``, checks before every use, receipts and the cardholder's data-use log."""
