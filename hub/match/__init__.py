"""Match: a passage's faces, passes and door plates against the resident ledger."""
