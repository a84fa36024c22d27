package postgres

// RecordQuery exposes recordQuery to the tests of query plans.
var RecordQuery = recordQuery

// SetPartitionWindow makes EnsurePartitions create the partitions from back
// months before the month of now to ahead months after it, instead of 14
// and 3, and returns the function that restores the window. Creating a
// partition and its indexes is most of the cost of opening a new schema:
// the tests that open a store per subtest narrow the window, those about
// partitions keep it. Not safe while a store opens.
func SetPartitionWindow(back, ahead int) (restore func()) {
	b, a := monthsBack, monthsAhead
	monthsBack, monthsAhead = back, ahead
	return func() { monthsBack, monthsAhead = b, a }
}
