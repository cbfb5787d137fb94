// Filled in as the console grows.
