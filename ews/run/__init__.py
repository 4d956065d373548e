"""The long-running node: poll due sources, store, extract, assess, alert, share (``ews run``)."""
