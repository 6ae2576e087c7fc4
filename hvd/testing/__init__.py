"""Helpers the test suite (and benchmarks) use to build and run the project's guest programs."""
