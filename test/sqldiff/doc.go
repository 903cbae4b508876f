// Package sqldiff is a differential test of Sluice's SQL against
// PostgreSQL: it generates records and queries from a seed, runs every query
// through Sluice's analyser and engine and, on the same records loaded into
// a PostgreSQL table, through PostgreSQL, and compares the results as
// multisets. It has no non-test code; see differential_test.go.
package sqldiff
