package verifier

// KeptVerdictsAnswered is how many verdicts v answered from its cache.
func KeptVerdictsAnswered(v *Service) uint64 {
	answered, _ := v.KeptVerdicts()
	return answered
}
