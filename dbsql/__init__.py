"""dbsql: a faithful Python port of Go's database/sql."""
