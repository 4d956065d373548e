"""The text stage: multilingual news and notices -> supply-disruption events with evidence."""
