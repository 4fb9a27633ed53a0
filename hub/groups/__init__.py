"""Group codes: a company's or market's members, their code colour and test age at a glance."""
