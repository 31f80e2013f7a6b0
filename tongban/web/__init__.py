"""Web: Django views and templates, the JSON API. Thin: parse, call a service, render."""
