package main

import (
	"context"
	"errors"

	"github.com/certd/certd/store"
)

func openMongo(ctx context.Context, cfg *Config) (store.Store, error) {
	return nil, errors.New("--mongo-uri: the MongoDB backend is not wired yet")
}
