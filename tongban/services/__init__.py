"""Use cases. Each public function is one transaction; this is the only layer that commits."""
