"""Rules: a matched passage → alert drafts with severity, per the site's configuration."""
