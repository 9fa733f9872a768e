package postgres

// PruneBatchSQL is the statement of one prune batch of kind, for plan checks.
func PruneBatchSQL(kind string) string {
	p, err := findPrunable(kind)
	if err != nil {
		panic(err)
	}
	return p.batchSQL()
}
