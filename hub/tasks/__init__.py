"""Daily check tasks from the ledger, balanced across on-duty grid workers; the close-out."""
