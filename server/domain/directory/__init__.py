"""directory domain: what a household's phone may read about agencies and passes, without signing in."""
