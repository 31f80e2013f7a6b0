"""Pure domain: catalog schema and loader, field types, workflow, time limits. No Django."""
