// Host side of the checker.
