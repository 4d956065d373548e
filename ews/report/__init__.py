"""What people read: the item board, the weekly brief, and the data frames and charts they
share with the dashboard."""
