package issuer

// StatusPosition exposes statusPosition to the external tests, which place
// a certificate where the counter will point next.
var StatusPosition = statusPosition
