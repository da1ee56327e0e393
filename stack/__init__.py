"""Sets up, trains and runs the whole assistant: behind `make run` and the test fixtures."""
