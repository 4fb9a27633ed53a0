"""Self-report through a report code (报备码): signed links, the mobile form, follow-up."""
