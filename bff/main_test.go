package bff_test

import (
	"flag"
	"os"
	"testing"
)

// waitingParallel is the package's -test.parallel unless one is given: its
// parallel tests mostly wait (TestEndDuringRefreshIsFinal's ten cases hold
// 65 s each, for the session cache's minute to pass), so the default of
// GOMAXPROCS (2 on CI) ran them five rounds deep, ~5 of the package's ~9
// minutes, with the CPUs idle.
const waitingParallel = "10"

func TestMain(m *testing.M) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		if err := flag.Set("test.parallel", waitingParallel); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}
