// Placeholder: the explorer page's script is written separately.
