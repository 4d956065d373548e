"""What people read: the board, and later briefs and reports."""
