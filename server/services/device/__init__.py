"""The frame every floor scenario shares: the command envelope and its keys (commands), what a
device sees when it connects (snapshot) and what a scanned code is (scan).

Layer 2 of services/: it may use the nouns below it, never a scenario above it."""
