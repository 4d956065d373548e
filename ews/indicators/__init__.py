"""Indicators: import dependence and concentration, trade-flow and price anomalies."""
