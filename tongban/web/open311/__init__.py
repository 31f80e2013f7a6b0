"""Open311 GeoReport v2 under /open311/v2/: discovery, services, service definitions,
requests (POST with an api_key, GET with filters), tokens; every answer as .xml or .json."""
