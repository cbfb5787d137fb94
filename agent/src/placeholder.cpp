// Filled in as the agent grows.
