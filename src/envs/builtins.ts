// Each built-in environment registers itself here; add one line per environment.
