// Filled in as the relay grows.
