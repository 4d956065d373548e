"""Risk: signals and structure combined into levels with hysteresis, and explained."""
