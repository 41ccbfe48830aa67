"""The signals: each ranks catalog parts for a query on its own evidence."""
