"""Flow tests (callflow-test/1): calls placed through the real engine and services, with the
clock, the caller and the HTTP answers each test declares; nothing is sent and nothing is
kept. `runner.run_tests` runs them, `junit.report` writes JUnit XML."""
