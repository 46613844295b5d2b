//go:build linux && !race

package integration

// raceEnabled tells that the tests run with the race detector; the ipdesk
// binary of TestEndToEnd is built the same way, from the same cached
// packages.
const raceEnabled = false
