package main

import (
	"context"
	"fmt"

	"github.com/certd/certd/store"
	"github.com/certd/certd/store/mongo"
)

// openMongo opens the MongoDB backend; every store call runs under the
// configured store timeout.
func openMongo(ctx context.Context, cfg *Config) (store.Store, error) {
	st, err := mongo.Open(ctx, cfg.MongoURI, cfg.MongoDatabase, mongo.WithTimeout(cfg.StoreTimeout))
	if err != nil {
		return nil, fmt.Errorf("open MongoDB database %s: %w", cfg.MongoDatabase, err)
	}
	return st, nil
}
