"""The analysts' dashboard: its pages (a router the API app includes), templates and styles."""
