"""Domain operations. Each function takes an open SQLAlchemy session (or connection) and can be
used as a library; messages meant for the user are collected with `notify`."""
