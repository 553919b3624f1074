"""Pure code on the networks' data: no database, no side effects."""
