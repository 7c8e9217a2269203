"""Performance benchmarks: they print figures and ratios, they assert nothing."""
