"""Alert records and lifecycle, their CAP 1.2 encoding, TLP 2.0 markings and signatures."""
