"""fakedb: the test driver, a port of Go's fakedb_test.go."""
