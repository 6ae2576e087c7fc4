"""Device models of the DM3730: pure register models (offsets, values, interrupt lines)."""
