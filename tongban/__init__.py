"""tongban (通办): public services as data, one durable case engine."""
