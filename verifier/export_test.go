package verifier

// KeptVerdictsAnswered is how many verdicts v answered from its cache.
func KeptVerdictsAnswered(v *Service) uint64 {
	if v.verdicts == nil {
		return 0
	}
	return v.verdicts.hits.Load()
}
