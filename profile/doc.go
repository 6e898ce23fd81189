// Package profile holds the use cases of an issuer's profile: reading it,
// changing it with a JSON merge patch (RFC 7396) under optimistic
// concurrency, its logo and seal images, and its audit trail.
//
// It imports cert and the store interfaces only; api calls it, cmd/certd
// wires it. Images from outside are checked by their header
// (image.DecodeConfig) before a pixel is decoded, so a small file that
// claims a huge image is refused without allocating it; what is stored is
// always a PNG that this package encoded.
package profile
